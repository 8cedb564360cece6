/* tslint:disable */
/* eslint-disable */

/** Where a reader starts: the oldest record, the end, an offset (in every partition),
 * a time (a Date or ms since the epoch), or an offset per partition. */
export type Start = "earliest" | "latest" | number | Date | { timestamp: number | Date } | [number, number][];
export type OnFull = "overwrite" | "block" | "reject" | "keep";
export type OnLag = "earliest" | "latest" | "error";
/** A key: text or bytes (partitioning hashes the UTF-8 bytes of text). */
export type Key = string | Uint8Array;
/** Headers: an object of name → value or [name, value] pairs; values are text (UTF-8) or bytes. */
export type HeadersInit = Record<string, string | Uint8Array> | [string, string | Uint8Array][];

export interface BusOptions { clock?: "system" | "manual"; startMs?: number | Date; journal?: number }
export interface TopicOptions { partitions?: number; capacity?: number; maxAgeMs?: number; onFull?: OnFull }
export interface QueueOptions { capacity?: number; visibilityTimeoutMs?: number; maxDeliveries?: number; deadLetter?: string }
export interface PublishOptions { key?: Key; headers?: HeadersInit; partition?: number; timestamp?: number | Date }
export interface SendOptions { key?: Key; headers?: HeadersInit; delayMs?: number }
export interface SendAsyncOptions { key?: Key; headers?: HeadersInit }
export interface SubscribeOptions { start?: Start; onLag?: OnLag }
export interface GroupOptions { start?: "earliest" | "latest" | Date | { timestamp: number | Date }; autoCommit?: boolean; sessionTimeoutMs?: number }
export interface ShareGroupOptions { start?: "earliest" | "latest" | Date | { timestamp: number | Date }; visibilityTimeoutMs?: number; maxDeliveries?: number; maxInFlight?: number; deadLetter?: string }
export interface JoinOptions { onAssign?: (partitions: number[]) => void; onRevoke?: (partitions: number[]) => void }

/** Where a record went. */
export interface Receipt { partition: number; offset: number }
/** A record read from a topic. `value` is the very value that was published. */
export interface RingletRecord<T = any> {
    partition: number;
    offset: number;
    /** ms since the epoch (bus clock). */
    timestamp: number;
    key: string | Uint8Array | undefined;
    headers: [string, Uint8Array][];
    value: T;
}

export interface TopicConfig { partitions: number; capacity: number; max_age_ms: number | null; on_full: OnFull }
export interface QueueConfig { capacity: number; visibility_timeout_ms: number; max_deliveries: number | null; dead_letter: string | null }
export interface GroupConfig { start: unknown; autoCommit: boolean; sessionTimeoutMs: number }
export interface ShareGroupConfig { start: unknown; visibilityTimeoutMs: number; maxDeliveries: number | null; maxInFlight: number; deadLetter: string | null }
export interface QueueFigures {
    ready: number; in_flight: number; delayed: number; sent: number; acked: number; nacked: number;
    redelivered: number; expired: number; dead_lettered: number; dropped: number; dead_letter_overflow: number;
}
export interface PartitionSnapshot { partition: number; earliest: number; latest: number; retained: number }
export interface GroupSnapshot {
    name: string;
    members: { id: number; partitions: number[] }[];
    partitions: { partition: number; committed: number | null; lag: number }[];
    [more: string]: unknown;
}
export interface ShareGroupSnapshot { name: string; [more: string]: unknown }
export interface TopicSnapshot {
    name: string;
    closed: boolean;
    config: TopicConfig;
    partitions: PartitionSnapshot[];
    subscriptions: { id: number; positions: number[]; lag: number }[];
    groups: GroupSnapshot[];
    share_groups: ShareGroupSnapshot[];
}
export interface QueueSnapshot { name: string; closed: boolean; config: QueueConfig; figures: QueueFigures; [more: string]: unknown }
/** `bus.snapshot()`: everything on the bus (the documented, stable shape). */
export interface Snapshot { time_ms: number; topics: TopicSnapshot[]; queues: QueueSnapshot[] }
/** A journal event (the value of a journal record). */
export interface JournalEvent {
    kind: "append" | "evict" | "expire" | "deliver" | "redeliver" | "ack" | "nack" | "dead_letter" | "commit" | "join" | "leave" | "rebalance";
    topic?: string; queue?: string; group?: string; member?: number; partition?: number; offset?: number;
    message?: number; attempt?: number; reason?: string; outcome?: string;
    assignment?: { member: number; partitions: number[] }[];
}

export interface Subscription { [Symbol.asyncIterator](): AsyncIterator<RingletRecord> }
export interface Member { [Symbol.asyncIterator](): AsyncIterator<RingletRecord> }
export interface ShareMember { [Symbol.asyncIterator](): AsyncIterator<Delivery> }
export interface Queue { [Symbol.asyncIterator](): AsyncIterator<Delivery> }



/**
 * The registry of topics and queues, with its clock and (optionally) its journal.
 *
 * `new Bus()` runs on the system clock; `new Bus({ clock: "manual", startMs: 0 })`
 * on a clock moved by `advance(ms)`; `journal: n` keeps the newest `n` events.
 */
export class Bus {
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Moves a manual clock forward by `ms` and fires every transition that falls
     * due, in deadline order (`ConfigError` on the system clock).
     */
    advance(ms: number): void;
    /**
     * Removes a topic or queue (closing it).
     */
    delete(name: string): void;
    /**
     * An existing queue (`NotFound` otherwise), whatever its configuration.
     */
    getQueue(name: string): Queue;
    /**
     * An existing topic (`NotFound` otherwise), whatever its configuration.
     * `"__journal"` is the journal.
     */
    getTopic(name: string): Topic;
    /**
     * A subscription to the journal (`start`, default `"earliest"`), or `undefined`
     * when the bus keeps no journal. Its records' values are plain event objects.
     */
    journal(options?: SubscribeOptions | null): Subscription | undefined;
    /**
     * The names of topics and queues, sorted.
     */
    names(): string[];
    /**
     * A new bus. Options: `clock` (`"system"`, the default, or `"manual"`),
     * `startMs` (a manual clock's start, default 0), `journal` (capacity of the
     * journal; off when left out).
     */
    constructor(options?: BusOptions | null);
    /**
     * The queue of that name, created if it does not exist. Options left out
     * accept what exists (or take the defaults); a conflicting option throws
     * `ConfigError`.
     */
    queue(name: string, options?: QueueOptions | null): Queue;
    /**
     * Everything, as a plain object (the documented snapshot shape; offsets are
     * numbers).
     */
    snapshot(): Snapshot;
    /**
     * The topic of that name, created if it does not exist. Options left out
     * accept what exists (or take the defaults); a conflicting option throws
     * `ConfigError`.
     */
    topic(name: string, options?: TopicOptions | null): Topic;
    /**
     * `"manual"` or `"system"`.
     */
    readonly clock: "manual" | "system";
    /**
     * The earliest bus-clock time (ms) something waits for, or `undefined`.
     */
    readonly nextDeadline: number | undefined;
    /**
     * The bus clock's time, ms since the epoch (or since the manual clock's zero).
     */
    readonly now: number;
}

/**
 * A message taken into flight: settle it once with `ack()`, `nack()` or `reject()`
 * before the visibility timeout passes.
 */
export class Delivery {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Done: removes the message. Throws `Expired` when the visibility timeout
     * passed first, `AlreadySettled` the second time.
     */
    ack(): void;
    /**
     * Not done: the message is ready again at once (or after `delayMs`), to the
     * head of the queue; after `maxDeliveries` it goes to the dead letter.
     */
    nack(delay_ms_opt?: number | null): void;
    /**
     * Never: the message goes to the dead letter (or is dropped) now.
     */
    reject(): void;
    /**
     * Which delivery of the message this is (1 for the first).
     */
    readonly attempt: number;
    /**
     * When the visibility timeout passes (bus clock, ms).
     */
    readonly deadline: number;
    /**
     * When the message was sent (bus clock, ms).
     */
    readonly enqueuedAt: number;
    /**
     * The message's headers as `[name, Uint8Array]` pairs.
     */
    readonly headers: [string, Uint8Array][];
    /**
     * Whether it was settled.
     */
    readonly isSettled: boolean;
    /**
     * The message's key (a string or `Uint8Array`), or `undefined`.
     */
    readonly key: string | Uint8Array | undefined;
    /**
     * The offset (share groups), or `undefined`.
     */
    readonly offset: number | undefined;
    /**
     * The partition (share groups), or `undefined`.
     */
    readonly partition: number | undefined;
    /**
     * The message's value (the same JS value that was sent).
     */
    readonly value: any;
}

/**
 * A consumer group: each partition is owned by one member at a time.
 */
export class Group {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * The committed offset of each partition (`null` where none).
     */
    committed(): (number | null)[];
    /**
     * Its configuration (`start`, `autoCommit`, `sessionTimeoutMs`).
     */
    config(): GroupConfig;
    /**
     * Joins the group: a new member (the partitions move at its first read).
     * Options: `onAssign(partitions)`, `onRevoke(partitions)`, called after the
     * engine's part of the member's call that noticed the change.
     */
    join(options?: JoinOptions | null): Member;
    /**
     * Records not yet committed, per partition.
     */
    lag(): number[];
    /**
     * The members and their partitions: `[{ id, partitions }]`.
     */
    members(): { id: number; partitions: number[] }[];
    /**
     * This group as a plain object.
     */
    snapshot(): GroupSnapshot;
    /**
     * Its name.
     */
    readonly name: string;
    /**
     * Its topic's name.
     */
    readonly topic: string;
}

/**
 * A member of a consumer group: reads the partitions it owns.
 */
export class Member {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Takes these partitions by hand (manual assignment).
     */
    assign(partitions: number[]): void;
    /**
     * The partitions it owns now, ascending.
     */
    assignment(): number[];
    /**
     * The same as `leave()`.
     */
    close(): void;
    /**
     * Commits the positions read so far, or the given `[[partition, offset], …]`.
     * Throws `NotOwner` for a partition it does not own.
     */
    commit(offsets_opt?: [number, number][] | null): void;
    /**
     * The next offset of each partition of the topic.
     */
    endOffsets(): number[];
    /**
     * The step behind `for await` (gaps counted in `skipped`; `undefined` at the end).
     */
    iterNext(): Promise<RingletRecord | undefined>;
    /**
     * Leaves the group (committing first when the group auto-commits); its
     * partitions go to the other members. A pending `next()` rejects with
     * `Closed`. Leaving twice does nothing.
     */
    leave(): void;
    /**
     * Resolves to the next record; rejects with `Lagged` at a gap, `Closed` after
     * `leave()`.
     */
    next(): Promise<RingletRecord>;
    /**
     * Stops reading these owned partitions until `resume`.
     */
    pause(partitions: number[]): void;
    /**
     * The paused partitions.
     */
    paused(): number[];
    /**
     * Up to `max` (default 1024) ready records, possibly none.
     */
    pollMany(max_opt?: number | null): RingletRecord[];
    /**
     * The next record of an owned partition, or `undefined` when none is ready.
     * Never waits. Throws `Lagged` at a gap, `Closed` after `leave()`.
     */
    poll(): RingletRecord | undefined;
    /**
     * `[[partition, position], …]` for the owned partitions.
     */
    positions(): [number, number][];
    /**
     * Reads these partitions again.
     */
    resume(partitions: number[]): void;
    /**
     * Moves the position in an owned partition.
     */
    seek(partition: number, offset: number): void;
    /**
     * Its id in the group (from 1).
     */
    readonly id: number;
    /**
     * Whether it left.
     */
    readonly isClosed: boolean;
    /**
     * Records skipped over gaps so far.
     */
    readonly skipped: number;
}

/**
 * A named, bounded queue for competing consumers: each message goes to one
 * consumer at a time and is removed when acked.
 */
export class Queue {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Closes it: sends throw `Closed`; receivers drain what is ready, then get
     * `Closed`.
     */
    close(): void;
    /**
     * Its configuration (`capacity`, `visibility_timeout_ms`, `max_deliveries`,
     * `dead_letter`).
     */
    config(): QueueConfig;
    /**
     * The queue's figures: `ready`, `in_flight`, `delayed`, `sent`, `acked`, …
     */
    figures(): QueueFigures;
    /**
     * The step behind `for await` (`undefined` once closed and drained).
     */
    iterNext(): Promise<Delivery | undefined>;
    /**
     * Up to `max` (default 1024) ready deliveries, possibly none.
     */
    receiveMany(max_opt?: number | null): Delivery[];
    /**
     * Resolves to the next delivery (waiting for one); rejects with `Closed` once
     * the queue is closed and nothing is ready. Any number may wait: each message
     * goes to one of them.
     */
    receive(): Promise<Delivery>;
    /**
     * Sends, waiting for room (options: `key`, `headers`).
     */
    sendAsync(value: any, options?: SendAsyncOptions | null): Promise<void>;
    /**
     * Sends every value of an array (or iterable); returns how many. Never waits:
     * a full queue throws `Full` with `sent` (how many went in before).
     */
    sendMany(values: Iterable<any>): number;
    /**
     * Sends `value` (options: `key`, `headers`, `delayMs`). Never waits: a full
     * queue throws `Full` (`sendAsync` waits for room).
     */
    send(value: any, options?: SendOptions | null): void;
    /**
     * This queue as a plain object (config and figures).
     */
    snapshot(): QueueSnapshot;
    /**
     * The next ready message as a delivery, or `undefined`. Never waits.
     */
    tryReceive(): Delivery | undefined;
    /**
     * Whether it is closed.
     */
    readonly isClosed: boolean;
    /**
     * Messages ready for delivery (in flight and delayed ones are in `figures()`).
     */
    readonly length: number;
    /**
     * Its name.
     */
    readonly name: string;
}

/**
 * A share group: a queue view of a topic (records delivered one member at a time,
 * acked one by one).
 */
export class ShareGroup {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Its configuration.
     */
    config(): ShareGroupConfig;
    /**
     * Joins: a new member that receives deliveries.
     */
    join(): ShareMember;
    /**
     * This share group as a plain object.
     */
    snapshot(): ShareGroupSnapshot;
    /**
     * Its name.
     */
    readonly name: string;
    /**
     * Its topic's name.
     */
    readonly topic: string;
}

/**
 * A member of a share group.
 */
export class ShareMember {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * The same as `leave()`.
     */
    close(): void;
    /**
     * The step behind `for await` (`undefined` once the topic is closed and drained).
     */
    iterNext(): Promise<Delivery | undefined>;
    /**
     * Leaves the share group; its unsettled deliveries become ready for others.
     */
    leave(): void;
    /**
     * Up to `max` (default 1024) ready deliveries, possibly none.
     */
    receiveMany(max_opt?: number | null): Delivery[];
    /**
     * Resolves to the next delivery (waiting for one); rejects with `Closed`.
     */
    receive(): Promise<Delivery>;
    /**
     * The next delivery, or `undefined` when none is ready. Never waits.
     */
    tryReceive(): Delivery | undefined;
    /**
     * Its id in the share group.
     */
    readonly id: number;
    /**
     * Whether it left.
     */
    readonly isClosed: boolean;
}

/**
 * An independent reader over all partitions of a topic.
 */
export class Subscription {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Stops reading (stops gating a `block` topic); reads then throw `Closed` and
     * a pending `next()` rejects.
     */
    close(): void;
    /**
     * The step behind `for await`: the next record, or `undefined` at the end;
     * gaps are counted in `skipped` (unless `onLag: "error"`).
     */
    iterNext(): Promise<RingletRecord | undefined>;
    /**
     * Resolves to the next record (waiting for one); rejects with `Lagged` at a gap
     * and `Closed` at the end.
     */
    next(): Promise<RingletRecord>;
    /**
     * Up to `max` (default 1024) ready records, possibly none. A gap after the
     * first record is reported by the next read.
     */
    pollMany(max_opt?: number | null): RingletRecord[];
    /**
     * The next record, or `undefined` when none is ready. Never waits. Throws
     * `Lagged` once at a gap, `Closed` once the topic is closed and drained.
     */
    poll(): RingletRecord | undefined;
    /**
     * The next offset this reader will read in each partition.
     */
    positions(): number[];
    /**
     * Moves the reader (`start` as in `subscribe`).
     */
    seek(start: Start): void;
    /**
     * Records retained but not read yet, over all partitions.
     */
    readonly lag: number;
    /**
     * Records skipped over gaps so far.
     */
    readonly skipped: number;
}

/**
 * A named, partitioned, replayable topic.
 */
export class Topic {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Closes it: publishing throws `Closed`; readers drain what is retained, then
     * get `Closed` (iteration ends).
     */
    close(): void;
    /**
     * Its configuration (`partitions`, `capacity`, `max_age_ms`, `on_full`).
     */
    config(): TopicConfig;
    /**
     * The oldest retained offset of each partition.
     */
    earliestOffsets(): number[];
    /**
     * The next offset of each partition.
     */
    endOffsets(): number[];
    /**
     * The consumer group of that name. Options (left out: accept what exists):
     * `start` (`"latest"`, `"earliest"`, a `Date`), `autoCommit`,
     * `sessionTimeoutMs`.
     */
    group(name: string, options?: GroupOptions | null): Group;
    /**
     * Per partition, the first offset whose timestamp is at or after `timestamp`
     * (ms or a `Date`), or `null`.
     */
    offsetsForTimes(timestamp: number | Date): (number | null)[];
    /**
     * Publishes, waiting for room on a `block` topic; resolves to the receipt.
     */
    publishAsync(value: any, options?: PublishOptions | null): Promise<Receipt>;
    /**
     * Publishes every value of an array (or iterable); returns how many. Never
     * waits: at a full partition it throws `Full` with `published` (how many went
     * in before).
     */
    publishMany(values: Iterable<any>): number;
    /**
     * Publishes `value` (held by reference) with optional `key`, `headers`,
     * `partition` and `timestamp`; returns `{ partition, offset }`. Never waits: a
     * full `block`, `reject` or `keep` partition throws `Full`.
     */
    publish(value: any, options?: PublishOptions | null): Receipt;
    /**
     * The share group of that name (a queue view of the topic). Options (left
     * out: accept what exists): `start`, `visibilityTimeoutMs`, `maxDeliveries`,
     * `maxInFlight`, `deadLetter`.
     */
    shareGroup(name: string, options?: ShareGroupOptions | null): ShareGroup;
    /**
     * This topic as a plain object (partitions, subscriptions, groups).
     */
    snapshot(): TopicSnapshot;
    /**
     * A new reader over all partitions. Options: `start` (`"latest"` by default,
     * `"earliest"`, an offset, a `Date`, `{ timestamp }`, `[[partition, offset]…]`),
     * `onLag` (`"earliest"`, `"latest"`, `"error"`).
     */
    subscribe(options?: SubscribeOptions | null): Subscription;
    /**
     * Whether it is closed.
     */
    readonly isClosed: boolean;
    /**
     * Records retained, over all partitions.
     */
    readonly length: number;
    /**
     * Its name.
     */
    readonly name: string;
    /**
     * Its number of partitions.
     */
    readonly partitions: number;
}

/**
 * How many distinct JS values the engine holds now, over every bus (records in
 * topics, messages in queues, deliveries and records not yet freed). For leak checks.
 */
export function liveValues(): number;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly __wbg_bus_free: (a: number, b: number) => void;
    readonly __wbg_delivery_free: (a: number, b: number) => void;
    readonly __wbg_group_free: (a: number, b: number) => void;
    readonly __wbg_member_free: (a: number, b: number) => void;
    readonly __wbg_queue_free: (a: number, b: number) => void;
    readonly __wbg_sharegroup_free: (a: number, b: number) => void;
    readonly __wbg_sharemember_free: (a: number, b: number) => void;
    readonly __wbg_subscription_free: (a: number, b: number) => void;
    readonly __wbg_topic_free: (a: number, b: number) => void;
    readonly bus_advance: (a: number, b: any) => [number, number];
    readonly bus_clock: (a: number) => [number, number];
    readonly bus_delete: (a: number, b: any) => [number, number];
    readonly bus_getQueue: (a: number, b: any) => [number, number, number];
    readonly bus_getTopic: (a: number, b: any) => [number, number, number];
    readonly bus_journal: (a: number, b: number) => [number, number, number];
    readonly bus_names: (a: number) => [number, number];
    readonly bus_new: (a: number) => [number, number, number];
    readonly bus_nextDeadline: (a: number) => [number, number];
    readonly bus_now: (a: number) => number;
    readonly bus_queue: (a: number, b: any, c: number) => [number, number, number];
    readonly bus_snapshot: (a: number) => any;
    readonly bus_topic: (a: number, b: any, c: number) => [number, number, number];
    readonly delivery_ack: (a: number) => [number, number];
    readonly delivery_attempt: (a: number) => [number, number, number];
    readonly delivery_deadline: (a: number) => [number, number, number];
    readonly delivery_enqueuedAt: (a: number) => [number, number, number];
    readonly delivery_headers: (a: number) => [number, number, number];
    readonly delivery_isSettled: (a: number) => number;
    readonly delivery_key: (a: number) => [number, number, number];
    readonly delivery_nack: (a: number, b: number) => [number, number];
    readonly delivery_offset: (a: number) => [number, number, number, number];
    readonly delivery_partition: (a: number) => [number, number, number];
    readonly delivery_reject: (a: number) => [number, number];
    readonly delivery_value: (a: number) => [number, number, number];
    readonly group_committed: (a: number) => any;
    readonly group_config: (a: number) => any;
    readonly group_join: (a: number, b: number) => [number, number, number];
    readonly group_lag: (a: number) => any;
    readonly group_members: (a: number) => any;
    readonly group_name: (a: number) => [number, number];
    readonly group_snapshot: (a: number) => any;
    readonly group_topic: (a: number) => [number, number];
    readonly liveValues: () => number;
    readonly member_assign: (a: number, b: any) => [number, number];
    readonly member_assignment: (a: number) => [number, number, number];
    readonly member_close: (a: number) => [number, number];
    readonly member_commit: (a: number, b: number) => [number, number];
    readonly member_endOffsets: (a: number) => [number, number, number];
    readonly member_id: (a: number) => number;
    readonly member_isClosed: (a: number) => number;
    readonly member_iterNext: (a: number) => any;
    readonly member_leave: (a: number) => [number, number];
    readonly member_next: (a: number) => any;
    readonly member_pause: (a: number, b: any) => [number, number];
    readonly member_paused: (a: number) => [number, number, number];
    readonly member_poll: (a: number) => [number, number, number];
    readonly member_pollMany: (a: number, b: number) => [number, number, number];
    readonly member_positions: (a: number) => [number, number, number];
    readonly member_resume: (a: number, b: any) => [number, number];
    readonly member_seek: (a: number, b: any, c: any) => [number, number];
    readonly member_skipped: (a: number) => [number, number, number];
    readonly queue_close: (a: number) => void;
    readonly queue_config: (a: number) => any;
    readonly queue_figures: (a: number) => any;
    readonly queue_isClosed: (a: number) => number;
    readonly queue_iterNext: (a: number) => any;
    readonly queue_length: (a: number) => number;
    readonly queue_name: (a: number) => [number, number];
    readonly queue_receive: (a: number) => any;
    readonly queue_receiveMany: (a: number, b: number) => [number, number, number, number];
    readonly queue_send: (a: number, b: any, c: number) => [number, number];
    readonly queue_sendAsync: (a: number, b: any, c: number) => [number, number, number];
    readonly queue_sendMany: (a: number, b: any) => [number, number, number];
    readonly queue_snapshot: (a: number) => any;
    readonly queue_tryReceive: (a: number) => [number, number, number];
    readonly sharegroup_config: (a: number) => any;
    readonly sharegroup_join: (a: number) => [number, number, number];
    readonly sharegroup_name: (a: number) => [number, number];
    readonly sharegroup_snapshot: (a: number) => any;
    readonly sharegroup_topic: (a: number) => [number, number];
    readonly sharemember_close: (a: number) => [number, number];
    readonly sharemember_id: (a: number) => number;
    readonly sharemember_isClosed: (a: number) => number;
    readonly sharemember_iterNext: (a: number) => any;
    readonly sharemember_leave: (a: number) => [number, number];
    readonly sharemember_receive: (a: number) => any;
    readonly sharemember_receiveMany: (a: number, b: number) => [number, number, number, number];
    readonly sharemember_tryReceive: (a: number) => [number, number, number];
    readonly subscription_close: (a: number) => [number, number];
    readonly subscription_iterNext: (a: number) => any;
    readonly subscription_lag: (a: number) => [number, number, number];
    readonly subscription_next: (a: number) => any;
    readonly subscription_poll: (a: number) => [number, number, number];
    readonly subscription_pollMany: (a: number, b: number) => [number, number, number];
    readonly subscription_positions: (a: number) => [number, number, number];
    readonly subscription_seek: (a: number, b: any) => [number, number];
    readonly subscription_skipped: (a: number) => [number, number, number];
    readonly topic_close: (a: number) => void;
    readonly topic_config: (a: number) => any;
    readonly topic_earliestOffsets: (a: number) => any;
    readonly topic_endOffsets: (a: number) => any;
    readonly topic_group: (a: number, b: any, c: number) => [number, number, number];
    readonly topic_isClosed: (a: number) => number;
    readonly topic_length: (a: number) => number;
    readonly topic_name: (a: number) => [number, number];
    readonly topic_offsetsForTimes: (a: number, b: any) => [number, number, number];
    readonly topic_partitions: (a: number) => number;
    readonly topic_publish: (a: number, b: any, c: number) => [number, number, number];
    readonly topic_publishAsync: (a: number, b: any, c: number) => [number, number, number];
    readonly topic_publishMany: (a: number, b: any) => [number, number, number];
    readonly topic_shareGroup: (a: number, b: any, c: number) => [number, number, number];
    readonly topic_snapshot: (a: number) => any;
    readonly topic_subscribe: (a: number, b: number) => [number, number, number];
    readonly wasm_bindgen__convert__closures_____invoke__h27cc74358d2e3401: (a: number, b: number, c: any, d: any) => void;
    readonly wasm_bindgen__convert__closures_____invoke__h3bb1b673be2e01c1: (a: number, b: number, c: any) => [number, number];
    readonly wasm_bindgen__convert__closures_____invoke__h2c52f1721e4bb5a0: (a: number, b: number) => void;
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_exn_store: (a: number) => void;
    readonly __externref_table_alloc: () => number;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __wbindgen_destroy_closure: (a: number, b: number) => void;
    readonly __externref_table_dealloc: (a: number) => void;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __externref_drop_slice: (a: number, b: number) => void;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
