//! TypeScript types of the options and results (checked by `tsc` on a typed usage
//! file); the values themselves are checked at run time in [`crate::args`].

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "BusOptions")]
    pub type BusOptions;
    #[wasm_bindgen(typescript_type = "FaultOptions")]
    pub type FaultOptions;
    /// A number argument that may be left out.
    #[wasm_bindgen(typescript_type = "number")]
    pub type OptionalNumber;
    #[wasm_bindgen(typescript_type = "EventStoreOptions")]
    pub type EventStoreOptions;
    #[wasm_bindgen(typescript_type = "GroupByKeyOptions")]
    pub type GroupByKeyOptions;
    #[wasm_bindgen(typescript_type = "WindowOptions")]
    pub type WindowOptions;
    #[wasm_bindgen(typescript_type = "GroupOptions")]
    pub type GroupOptions;
    #[wasm_bindgen(typescript_type = "JoinOptions")]
    pub type JoinOptions;
    #[wasm_bindgen(typescript_type = "number")]
    pub type Num;
    #[wasm_bindgen(typescript_type = "[number, number][]")]
    pub type OffsetPairs;
    #[wasm_bindgen(typescript_type = "string")]
    pub type Str;
    #[wasm_bindgen(typescript_type = "(a: any, b: any) => unknown")]
    pub type Merge;
    #[wasm_bindgen(typescript_type = "PublishOptions")]
    pub type PublishOptions;
    #[wasm_bindgen(typescript_type = "QueueOptions")]
    pub type QueueOptions;
    #[wasm_bindgen(typescript_type = "SendAsyncOptions")]
    pub type SendAsyncOptions;
    #[wasm_bindgen(typescript_type = "SendOptions")]
    pub type SendOptions;
    #[wasm_bindgen(typescript_type = "ShareGroupOptions")]
    pub type ShareGroupOptions;
    #[wasm_bindgen(typescript_type = "SubscribeOptions")]
    pub type SubscribeOptions;
    #[wasm_bindgen(typescript_type = "TopicOptions")]
    pub type TopicOptions;
    #[wasm_bindgen(typescript_type = "PatternOptions")]
    pub type PatternOptions;
    #[wasm_bindgen(typescript_type = "RouteOptions")]
    pub type RouteOptions;
}

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** Where a reader starts: the oldest record, the end, an offset (in every partition),
 * a time (a Date or ms since the epoch), or an offset per partition. */
export type Start = "earliest" | "latest" | number | Date | { timestamp: number | Date } | [number, number][];
export type OnFull = "overwrite" | "block" | "reject" | "keep";
export type OnLag = "earliest" | "latest" | "error";
/** A key: text or bytes (partitioning hashes the UTF-8 bytes of text). */
export type Key = string | Uint8Array;
/** Headers: an object of name → value or [name, value] pairs; values are text (UTF-8) or bytes. */
export type HeadersInit = Record<string, string | Uint8Array> | [string, string | Uint8Array][];

export interface BusOptions { clock?: "system" | "manual"; startMs?: number | Date; journal?: number; /** A rule every new topic name must follow, e.g. `"<domain>.<product>.v<version>"`. */ namingRule?: string }
/** `compacted: true` keeps the latest record per key; publishing `null` with a key deletes it. */
export interface TopicOptions { partitions?: number; capacity?: number; maxAgeMs?: number; onFull?: OnFull; compacted?: boolean; /** Topics in the browser and Node are kept in memory: `true` throws `ConfigError`. */ durable?: boolean; /** The team or domain that owns it (the catalog lists it). */ owner?: string; description?: string; tags?: string[]; /** A JSON Schema each value is checked against at publish (`SchemaError` when it does not match). */ schema?: object | boolean }
/** A topic's data-product metadata. */
export interface TopicMetadata { owner: string | null; description: string | null; tags: string[]; schema: object | null }
/** A producer or consumer of a topic in the catalog. */
export interface CatalogParty { kind: "group" | "share_group" | "topology" | "link"; name: string; lag?: number }
/** One data product of `bus.catalog()`. */
export interface CatalogEntry {
  name: string; owner: string | null; description: string | null; tags: string[]; schema: object | null;
  partitions: number;
  retention: { capacity: number; max_age_ms: number | null; on_full: OnFull; compacted: boolean; durable: boolean };
  records: number; producers: CatalogParty[]; consumers: CatalogParty[]; lag: number;
}
export interface QueueOptions { capacity?: number; visibilityTimeoutMs?: number; maxDeliveries?: number; deadLetter?: string }
export interface PublishOptions { key?: Key; headers?: HeadersInit; partition?: number; timestamp?: number | Date }
export interface SendOptions { key?: Key; headers?: HeadersInit; delayMs?: number }
export interface SendAsyncOptions { key?: Key; headers?: HeadersInit }
export interface SubscribeOptions { start?: Start; onLag?: OnLag }
/** `start` is for the topics that match now; topics found later are read from their first record. */
export interface PatternOptions { start?: Start }
/** `create` (default `true`): make a missing topic on first use with the other options; `false`: only topics that exist. */
export interface RouteOptions { create?: boolean; partitions?: number; capacity?: number; maxAgeMs?: number; onFull?: OnFull }
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

export interface TopicConfig { partitions: number; capacity: number; max_age_ms: number | null; on_full: OnFull; compacted: boolean }
export interface QueueConfig { capacity: number; visibility_timeout_ms: number; max_deliveries: number | null; dead_letter: string | null }
export interface GroupConfig { start: unknown; autoCommit: boolean; sessionTimeoutMs: number }
export interface ShareGroupConfig { start: unknown; visibilityTimeoutMs: number; maxDeliveries: number | null; maxInFlight: number; deadLetter: string | null }
export interface QueueFigures {
  ready: number; in_flight: number; delayed: number; sent: number; acked: number; nacked: number;
  redelivered: number; expired: number; dead_lettered: number; dropped: number; dead_letter_overflow: number;
}
export interface FaultOptions { error?: "full" | "closed" | "io" }
export interface ActiveFault { name: string; fault: "fail_publishes" | "fail_sends" | "delay_acks" | "pause"; remaining?: number; error?: "full" | "closed" | "io"; delay_ms?: number; partition?: number }
export interface FaultFigures { failed: number; delayed_acks: number; late_acks: number; crashed: number }
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
  /** What opening a durable topic's logs cut off (native builds only). */
  recovered?: string[];
  /** Owner, description, tags and schema, when any is set. */
  metadata?: Partial<TopicMetadata>;
}
export interface QueueSnapshot { name: string; closed: boolean; config: QueueConfig; figures: QueueFigures; [more: string]: unknown }
/** A link to the outside (a native bridge's; the WASM build has none of its own). */
export interface LinkSnapshot {
  name: string; kind: string; from: string; to: string; closed: boolean;
  figures: { records: number; bytes: number; in_flight: number; ringlet_lag: number; remote_lag: number;
             retries: number; errors: number; dead_letters: number; last_error: string | null };
}
/** `bus.snapshot()`: everything on the bus (the documented, stable shape). */
export interface Snapshot { time_ms: number; topics: TopicSnapshot[]; queues: QueueSnapshot[]; links: LinkSnapshot[] }
/** A journal event (the value of a journal record). */
export interface JournalEvent {
  kind: "append" | "evict" | "expire" | "deliver" | "redeliver" | "ack" | "nack" | "dead_letter" | "commit" | "join" | "leave" | "rebalance" | "recover" | "link" | "fault";
  topic?: string; queue?: string; group?: string; member?: number; partition?: number; offset?: number;
  message?: number; attempt?: number; reason?: string; outcome?: string;
  assignment?: { member: number; partitions: number[] }[];
  link?: string; detail?: string;
}

export interface Subscription { [Symbol.asyncIterator](): AsyncIterator<RingletRecord> }
export interface Member { [Symbol.asyncIterator](): AsyncIterator<RingletRecord> }
export interface ShareMember { [Symbol.asyncIterator](): AsyncIterator<Delivery> }
export interface Queue { [Symbol.asyncIterator](): AsyncIterator<Delivery> }
export interface PatternSubscription { [Symbol.asyncIterator](): AsyncIterator<RingletRecord & { topic: string }> }

export interface GroupByKeyOptions { store?: string; capacity?: number }
/** Exactly one of `tumblingMs`, `hoppingMs` (with `advanceMs`) or `sessionGapMs`. */
export interface WindowOptions {
  tumblingMs?: number; hoppingMs?: number; advanceMs?: number; sessionGapMs?: number;
  /** How late (ms after a window's end, by stream time) a record may still count. Default 0. */
  graceMs?: number;
  /** How long closed windows stay queryable. Default a day. */
  retentionMs?: number;
}
export interface EventStoreOptions { partitions?: number; capacity?: number }
export interface Stream {
  /** Splits the stream: a record goes to the first predicate that is truthy (or is dropped). */
  branch(...preds: ((record: RingletRecord) => unknown)[]): Stream[];
}
/** A window's aggregate. */
export interface WindowedValue<T = any> { start: number; end: number; value: T }
export interface WindowedEntry<T = any> { key: Key; start: number; end: number; value: T }
/** A record that failed in a topology (thrown by `runUntilIdle()`/`step()`). */
export interface StreamError extends Error {
  name: "StreamError"; topology: string; node: string; topic: string;
  partition: number; offset: number; key: Key | undefined;
  /** The record the throwing function got. */
  record: RingletRecord | undefined;
  /** What the function threw. */
  cause: unknown;
}
/** What `eventStore.aggregates(factory)`'s factory makes. */
export interface AggregateObject<E = any, C = any> {
  apply(event: E): void;
  handle(command: C): Iterable<E> | null | undefined;
}
"#;
