/* @ts-self-types="./ringlet_wasm.d.ts" */
import { makeReceipt, makeRecord } from './snippets/ringlet-wasm-e7f2e8cea70eaec7/inline1.js';
import * as import1 from "./snippets/ringlet-wasm-e7f2e8cea70eaec7/inline0.js"
import * as import2 from "./snippets/ringlet-wasm-e7f2e8cea70eaec7/inline1.js"


/**
 * The registry of topics and queues, with its clock and (optionally) its journal.
 *
 * `new Bus()` runs on the system clock; `new Bus({ clock: "manual", startMs: 0 })`
 * on a clock moved by `advance(ms)`; `journal: n` keeps the newest `n` events.
 */
export class Bus {
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        BusFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_bus_free(ptr, 0);
    }
    /**
     * Moves a manual clock forward by `ms` and fires every transition that falls
     * due, in deadline order (`ConfigError` on the system clock).
     * @param {number} ms
     */
    advance(ms) {
        const ret = wasm.bus_advance(this.__wbg_ptr, ms);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * `"manual"` or `"system"`.
     * @returns {"manual" | "system"}
     */
    get clock() {
        let deferred1_0;
        let deferred1_1;
        try {
            const ret = wasm.bus_clock(this.__wbg_ptr);
            deferred1_0 = ret[0];
            deferred1_1 = ret[1];
            return getStringFromWasm0(ret[0], ret[1]);
        } finally {
            wasm.__wbindgen_free(deferred1_0, deferred1_1, 1);
        }
    }
    /**
     * Removes a topic or queue (closing it).
     * @param {string} name
     */
    delete(name) {
        const ret = wasm.bus_delete(this.__wbg_ptr, name);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * An existing queue (`NotFound` otherwise), whatever its configuration.
     * @param {string} name
     * @returns {Queue}
     */
    getQueue(name) {
        const ret = wasm.bus_getQueue(this.__wbg_ptr, name);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * An existing topic (`NotFound` otherwise), whatever its configuration.
     * `"__journal"` is the journal.
     * @param {string} name
     * @returns {Topic}
     */
    getTopic(name) {
        const ret = wasm.bus_getTopic(this.__wbg_ptr, name);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return Topic.__wrap(ret[0]);
    }
    /**
     * A subscription to the journal (`start`, default `"earliest"`), or `undefined`
     * when the bus keeps no journal. Its records' values are plain event objects.
     * @param {SubscribeOptions | null} [options]
     * @returns {Subscription | undefined}
     */
    journal(options) {
        const ret = wasm.bus_journal(this.__wbg_ptr, isLikeNone(options) ? 0 : addToExternrefTable0(options));
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * The names of topics and queues, sorted.
     * @returns {string[]}
     */
    names() {
        const ret = wasm.bus_names(this.__wbg_ptr);
        var v1 = getArrayJsValueFromWasm0(ret[0], ret[1]);
        wasm.__wbindgen_free(ret[0], ret[1] * 4, 4);
        return v1;
    }
    /**
     * A new bus. Options: `clock` (`"system"`, the default, or `"manual"`),
     * `startMs` (a manual clock's start, default 0), `journal` (capacity of the
     * journal; off when left out).
     * @param {BusOptions | null} [options]
     */
    constructor(options) {
        const ret = wasm.bus_new(isLikeNone(options) ? 0 : addToExternrefTable0(options));
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        this.__wbg_ptr = ret[0];
        BusFinalization.register(this, this.__wbg_ptr, this);
        return this;
    }
    /**
     * The earliest bus-clock time (ms) something waits for, or `undefined`.
     * @returns {number | undefined}
     */
    get nextDeadline() {
        const ret = wasm.bus_nextDeadline(this.__wbg_ptr);
        return ret[0] === 0 ? undefined : ret[1];
    }
    /**
     * The bus clock's time, ms since the epoch (or since the manual clock's zero).
     * @returns {number}
     */
    get now() {
        const ret = wasm.bus_now(this.__wbg_ptr);
        return ret;
    }
    /**
     * The queue of that name, created if it does not exist. Options left out
     * accept what exists (or take the defaults); a conflicting option throws
     * `ConfigError`.
     * @param {string} name
     * @param {QueueOptions | null} [options]
     * @returns {Queue}
     */
    queue(name, options) {
        const ret = wasm.bus_queue(this.__wbg_ptr, name, isLikeNone(options) ? 0 : addToExternrefTable0(options));
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return Queue.__wrap(ret[0]);
    }
    /**
     * Everything, as a plain object (the documented snapshot shape; offsets are
     * numbers).
     * @returns {Snapshot}
     */
    snapshot() {
        const ret = wasm.bus_snapshot(this.__wbg_ptr);
        return ret;
    }
    /**
     * The topic of that name, created if it does not exist. Options left out
     * accept what exists (or take the defaults); a conflicting option throws
     * `ConfigError`.
     * @param {string} name
     * @param {TopicOptions | null} [options]
     * @returns {Topic}
     */
    topic(name, options) {
        const ret = wasm.bus_topic(this.__wbg_ptr, name, isLikeNone(options) ? 0 : addToExternrefTable0(options));
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return Topic.__wrap(ret[0]);
    }
}
if (Symbol.dispose) Bus.prototype[Symbol.dispose] = Bus.prototype.free;

/**
 * A message taken into flight: settle it once with `ack()`, `nack()` or `reject()`
 * before the visibility timeout passes.
 */
export class Delivery {
    static __wrap(ptr) {
        const obj = Object.create(Delivery.prototype);
        obj.__wbg_ptr = ptr;
        DeliveryFinalization.register(obj, obj.__wbg_ptr, obj);
        return obj;
    }
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        DeliveryFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_delivery_free(ptr, 0);
    }
    /**
     * Done: removes the message. Throws `Expired` when the visibility timeout
     * passed first, `AlreadySettled` the second time.
     */
    ack() {
        const ret = wasm.delivery_ack(this.__wbg_ptr);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * Which delivery of the message this is (1 for the first).
     * @returns {number}
     */
    get attempt() {
        const ret = wasm.delivery_attempt(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return ret[0] >>> 0;
    }
    /**
     * When the visibility timeout passes (bus clock, ms).
     * @returns {number}
     */
    get deadline() {
        const ret = wasm.delivery_deadline(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return ret[0];
    }
    /**
     * When the message was sent (bus clock, ms).
     * @returns {number}
     */
    get enqueuedAt() {
        const ret = wasm.delivery_enqueuedAt(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return ret[0];
    }
    /**
     * The message's headers as `[name, Uint8Array]` pairs.
     * @returns {[string, Uint8Array][]}
     */
    get headers() {
        const ret = wasm.delivery_headers(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * Whether it was settled.
     * @returns {boolean}
     */
    get isSettled() {
        const ret = wasm.delivery_isSettled(this.__wbg_ptr);
        return ret !== 0;
    }
    /**
     * The message's key (a string or `Uint8Array`), or `undefined`.
     * @returns {string | Uint8Array | undefined}
     */
    get key() {
        const ret = wasm.delivery_key(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * Not done: the message is ready again at once (or after `delayMs`), to the
     * head of the queue; after `maxDeliveries` it goes to the dead letter.
     * @param {number | null} [delay_ms_opt]
     */
    nack(delay_ms_opt) {
        const ret = wasm.delivery_nack(this.__wbg_ptr, isLikeNone(delay_ms_opt) ? 0 : addToExternrefTable0(delay_ms_opt));
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * The offset (share groups), or `undefined`.
     * @returns {number | undefined}
     */
    get offset() {
        const ret = wasm.delivery_offset(this.__wbg_ptr);
        if (ret[3]) {
            throw takeFromExternrefTable0(ret[2]);
        }
        return ret[0] === 0 ? undefined : ret[1];
    }
    /**
     * The partition (share groups), or `undefined`.
     * @returns {number | undefined}
     */
    get partition() {
        const ret = wasm.delivery_partition(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return ret[0] === Number.MAX_SAFE_INTEGER ? undefined : ret[0];
    }
    /**
     * Never: the message goes to the dead letter (or is dropped) now.
     */
    reject() {
        const ret = wasm.delivery_reject(this.__wbg_ptr);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * The message's value (the same JS value that was sent).
     * @returns {any}
     */
    get value() {
        const ret = wasm.delivery_value(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
}
if (Symbol.dispose) Delivery.prototype[Symbol.dispose] = Delivery.prototype.free;

/**
 * A consumer group: each partition is owned by one member at a time.
 */
export class Group {
    static __wrap(ptr) {
        const obj = Object.create(Group.prototype);
        obj.__wbg_ptr = ptr;
        GroupFinalization.register(obj, obj.__wbg_ptr, obj);
        return obj;
    }
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        GroupFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_group_free(ptr, 0);
    }
    /**
     * The committed offset of each partition (`null` where none).
     * @returns {(number | null)[]}
     */
    committed() {
        const ret = wasm.group_committed(this.__wbg_ptr);
        return ret;
    }
    /**
     * Its configuration (`start`, `autoCommit`, `sessionTimeoutMs`).
     * @returns {GroupConfig}
     */
    config() {
        const ret = wasm.group_config(this.__wbg_ptr);
        return ret;
    }
    /**
     * Joins the group: a new member (the partitions move at its first read).
     * Options: `onAssign(partitions)`, `onRevoke(partitions)`, called after the
     * engine's part of the member's call that noticed the change.
     * @param {JoinOptions | null} [options]
     * @returns {Member}
     */
    join(options) {
        const ret = wasm.group_join(this.__wbg_ptr, isLikeNone(options) ? 0 : addToExternrefTable0(options));
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * Records not yet committed, per partition.
     * @returns {number[]}
     */
    lag() {
        const ret = wasm.group_lag(this.__wbg_ptr);
        return ret;
    }
    /**
     * The members and their partitions: `[{ id, partitions }]`.
     * @returns {{ id: number; partitions: number[] }[]}
     */
    members() {
        const ret = wasm.group_members(this.__wbg_ptr);
        return ret;
    }
    /**
     * Its name.
     * @returns {string}
     */
    get name() {
        let deferred1_0;
        let deferred1_1;
        try {
            const ret = wasm.group_name(this.__wbg_ptr);
            deferred1_0 = ret[0];
            deferred1_1 = ret[1];
            return getStringFromWasm0(ret[0], ret[1]);
        } finally {
            wasm.__wbindgen_free(deferred1_0, deferred1_1, 1);
        }
    }
    /**
     * This group as a plain object.
     * @returns {GroupSnapshot}
     */
    snapshot() {
        const ret = wasm.group_snapshot(this.__wbg_ptr);
        return ret;
    }
    /**
     * Its topic's name.
     * @returns {string}
     */
    get topic() {
        let deferred1_0;
        let deferred1_1;
        try {
            const ret = wasm.group_topic(this.__wbg_ptr);
            deferred1_0 = ret[0];
            deferred1_1 = ret[1];
            return getStringFromWasm0(ret[0], ret[1]);
        } finally {
            wasm.__wbindgen_free(deferred1_0, deferred1_1, 1);
        }
    }
}
if (Symbol.dispose) Group.prototype[Symbol.dispose] = Group.prototype.free;

/**
 * A member of a consumer group: reads the partitions it owns.
 */
export class Member {
    static __wrap(ptr) {
        const obj = Object.create(Member.prototype);
        obj.__wbg_ptr = ptr;
        MemberFinalization.register(obj, obj.__wbg_ptr, obj);
        return obj;
    }
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        MemberFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_member_free(ptr, 0);
    }
    /**
     * Takes these partitions by hand (manual assignment).
     * @param {number[]} partitions
     */
    assign(partitions) {
        const ret = wasm.member_assign(this.__wbg_ptr, partitions);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * The partitions it owns now, ascending.
     * @returns {number[]}
     */
    assignment() {
        const ret = wasm.member_assignment(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * The same as `leave()`.
     */
    close() {
        const ret = wasm.member_close(this.__wbg_ptr);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * Commits the positions read so far, or the given `[[partition, offset], …]`.
     * Throws `NotOwner` for a partition it does not own.
     * @param {[number, number][] | null} [offsets_opt]
     */
    commit(offsets_opt) {
        const ret = wasm.member_commit(this.__wbg_ptr, isLikeNone(offsets_opt) ? 0 : addToExternrefTable0(offsets_opt));
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * The next offset of each partition of the topic.
     * @returns {number[]}
     */
    endOffsets() {
        const ret = wasm.member_endOffsets(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * Its id in the group (from 1).
     * @returns {number}
     */
    get id() {
        const ret = wasm.member_id(this.__wbg_ptr);
        return ret;
    }
    /**
     * Whether it left.
     * @returns {boolean}
     */
    get isClosed() {
        const ret = wasm.member_isClosed(this.__wbg_ptr);
        return ret !== 0;
    }
    /**
     * The step behind `for await` (gaps counted in `skipped`; `undefined` at the end).
     * @returns {Promise<RingletRecord | undefined>}
     */
    iterNext() {
        const ret = wasm.member_iterNext(this.__wbg_ptr);
        return ret;
    }
    /**
     * Leaves the group (committing first when the group auto-commits); its
     * partitions go to the other members. A pending `next()` rejects with
     * `Closed`. Leaving twice does nothing.
     */
    leave() {
        const ret = wasm.member_leave(this.__wbg_ptr);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * Resolves to the next record; rejects with `Lagged` at a gap, `Closed` after
     * `leave()`.
     * @returns {Promise<RingletRecord>}
     */
    next() {
        const ret = wasm.member_next(this.__wbg_ptr);
        return ret;
    }
    /**
     * Stops reading these owned partitions until `resume`.
     * @param {number[]} partitions
     */
    pause(partitions) {
        const ret = wasm.member_pause(this.__wbg_ptr, partitions);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * The paused partitions.
     * @returns {number[]}
     */
    paused() {
        const ret = wasm.member_paused(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * Up to `max` (default 1024) ready records, possibly none.
     * @param {number | null} [max_opt]
     * @returns {RingletRecord[]}
     */
    pollMany(max_opt) {
        const ret = wasm.member_pollMany(this.__wbg_ptr, isLikeNone(max_opt) ? 0 : addToExternrefTable0(max_opt));
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * The next record of an owned partition, or `undefined` when none is ready.
     * Never waits. Throws `Lagged` at a gap, `Closed` after `leave()`.
     * @returns {RingletRecord | undefined}
     */
    poll() {
        const ret = wasm.member_poll(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * `[[partition, position], …]` for the owned partitions.
     * @returns {[number, number][]}
     */
    positions() {
        const ret = wasm.member_positions(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * Reads these partitions again.
     * @param {number[]} partitions
     */
    resume(partitions) {
        const ret = wasm.member_resume(this.__wbg_ptr, partitions);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * Moves the position in an owned partition.
     * @param {number} partition
     * @param {number} offset
     */
    seek(partition, offset) {
        const ret = wasm.member_seek(this.__wbg_ptr, partition, offset);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * Records skipped over gaps so far.
     * @returns {number}
     */
    get skipped() {
        const ret = wasm.member_skipped(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return ret[0];
    }
}
if (Symbol.dispose) Member.prototype[Symbol.dispose] = Member.prototype.free;

/**
 * A named, bounded queue for competing consumers: each message goes to one
 * consumer at a time and is removed when acked.
 */
export class Queue {
    static __wrap(ptr) {
        const obj = Object.create(Queue.prototype);
        obj.__wbg_ptr = ptr;
        QueueFinalization.register(obj, obj.__wbg_ptr, obj);
        return obj;
    }
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        QueueFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_queue_free(ptr, 0);
    }
    /**
     * Closes it: sends throw `Closed`; receivers drain what is ready, then get
     * `Closed`.
     */
    close() {
        wasm.queue_close(this.__wbg_ptr);
    }
    /**
     * Its configuration (`capacity`, `visibility_timeout_ms`, `max_deliveries`,
     * `dead_letter`).
     * @returns {QueueConfig}
     */
    config() {
        const ret = wasm.queue_config(this.__wbg_ptr);
        return ret;
    }
    /**
     * The queue's figures: `ready`, `in_flight`, `delayed`, `sent`, `acked`, …
     * @returns {QueueFigures}
     */
    figures() {
        const ret = wasm.queue_figures(this.__wbg_ptr);
        return ret;
    }
    /**
     * Whether it is closed.
     * @returns {boolean}
     */
    get isClosed() {
        const ret = wasm.queue_isClosed(this.__wbg_ptr);
        return ret !== 0;
    }
    /**
     * The step behind `for await` (`undefined` once closed and drained).
     * @returns {Promise<Delivery | undefined>}
     */
    iterNext() {
        const ret = wasm.queue_iterNext(this.__wbg_ptr);
        return ret;
    }
    /**
     * Messages ready for delivery (in flight and delayed ones are in `figures()`).
     * @returns {number}
     */
    get length() {
        const ret = wasm.queue_length(this.__wbg_ptr);
        return ret >>> 0;
    }
    /**
     * Its name.
     * @returns {string}
     */
    get name() {
        let deferred1_0;
        let deferred1_1;
        try {
            const ret = wasm.queue_name(this.__wbg_ptr);
            deferred1_0 = ret[0];
            deferred1_1 = ret[1];
            return getStringFromWasm0(ret[0], ret[1]);
        } finally {
            wasm.__wbindgen_free(deferred1_0, deferred1_1, 1);
        }
    }
    /**
     * Up to `max` (default 1024) ready deliveries, possibly none.
     * @param {number | null} [max_opt]
     * @returns {Delivery[]}
     */
    receiveMany(max_opt) {
        const ret = wasm.queue_receiveMany(this.__wbg_ptr, isLikeNone(max_opt) ? 0 : addToExternrefTable0(max_opt));
        if (ret[3]) {
            throw takeFromExternrefTable0(ret[2]);
        }
        var v1 = getArrayJsValueFromWasm0(ret[0], ret[1]);
        wasm.__wbindgen_free(ret[0], ret[1] * 4, 4);
        return v1;
    }
    /**
     * Resolves to the next delivery (waiting for one); rejects with `Closed` once
     * the queue is closed and nothing is ready. Any number may wait: each message
     * goes to one of them.
     * @returns {Promise<Delivery>}
     */
    receive() {
        const ret = wasm.queue_receive(this.__wbg_ptr);
        return ret;
    }
    /**
     * Sends, waiting for room (options: `key`, `headers`).
     * @param {any} value
     * @param {SendAsyncOptions | null} [options]
     * @returns {Promise<void>}
     */
    sendAsync(value, options) {
        const ret = wasm.queue_sendAsync(this.__wbg_ptr, value, isLikeNone(options) ? 0 : addToExternrefTable0(options));
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * Sends every value of an array (or iterable); returns how many. Never waits:
     * a full queue throws `Full` with `sent` (how many went in before).
     * @param {Iterable<any>} values
     * @returns {number}
     */
    sendMany(values) {
        const ret = wasm.queue_sendMany(this.__wbg_ptr, values);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return ret[0] >>> 0;
    }
    /**
     * Sends `value` (options: `key`, `headers`, `delayMs`). Never waits: a full
     * queue throws `Full` (`sendAsync` waits for room).
     * @param {any} value
     * @param {SendOptions | null} [options]
     */
    send(value, options) {
        const ret = wasm.queue_send(this.__wbg_ptr, value, isLikeNone(options) ? 0 : addToExternrefTable0(options));
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * This queue as a plain object (config and figures).
     * @returns {QueueSnapshot}
     */
    snapshot() {
        const ret = wasm.queue_snapshot(this.__wbg_ptr);
        return ret;
    }
    /**
     * The next ready message as a delivery, or `undefined`. Never waits.
     * @returns {Delivery | undefined}
     */
    tryReceive() {
        const ret = wasm.queue_tryReceive(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return ret[0] === 0 ? undefined : Delivery.__wrap(ret[0]);
    }
}
if (Symbol.dispose) Queue.prototype[Symbol.dispose] = Queue.prototype.free;

/**
 * A share group: a queue view of a topic (records delivered one member at a time,
 * acked one by one).
 */
export class ShareGroup {
    static __wrap(ptr) {
        const obj = Object.create(ShareGroup.prototype);
        obj.__wbg_ptr = ptr;
        ShareGroupFinalization.register(obj, obj.__wbg_ptr, obj);
        return obj;
    }
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        ShareGroupFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_sharegroup_free(ptr, 0);
    }
    /**
     * Its configuration.
     * @returns {ShareGroupConfig}
     */
    config() {
        const ret = wasm.sharegroup_config(this.__wbg_ptr);
        return ret;
    }
    /**
     * Joins: a new member that receives deliveries.
     * @returns {ShareMember}
     */
    join() {
        const ret = wasm.sharegroup_join(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * Its name.
     * @returns {string}
     */
    get name() {
        let deferred1_0;
        let deferred1_1;
        try {
            const ret = wasm.sharegroup_name(this.__wbg_ptr);
            deferred1_0 = ret[0];
            deferred1_1 = ret[1];
            return getStringFromWasm0(ret[0], ret[1]);
        } finally {
            wasm.__wbindgen_free(deferred1_0, deferred1_1, 1);
        }
    }
    /**
     * This share group as a plain object.
     * @returns {ShareGroupSnapshot}
     */
    snapshot() {
        const ret = wasm.sharegroup_snapshot(this.__wbg_ptr);
        return ret;
    }
    /**
     * Its topic's name.
     * @returns {string}
     */
    get topic() {
        let deferred1_0;
        let deferred1_1;
        try {
            const ret = wasm.sharegroup_topic(this.__wbg_ptr);
            deferred1_0 = ret[0];
            deferred1_1 = ret[1];
            return getStringFromWasm0(ret[0], ret[1]);
        } finally {
            wasm.__wbindgen_free(deferred1_0, deferred1_1, 1);
        }
    }
}
if (Symbol.dispose) ShareGroup.prototype[Symbol.dispose] = ShareGroup.prototype.free;

/**
 * A member of a share group.
 */
export class ShareMember {
    static __wrap(ptr) {
        const obj = Object.create(ShareMember.prototype);
        obj.__wbg_ptr = ptr;
        ShareMemberFinalization.register(obj, obj.__wbg_ptr, obj);
        return obj;
    }
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        ShareMemberFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_sharemember_free(ptr, 0);
    }
    /**
     * The same as `leave()`.
     */
    close() {
        const ret = wasm.sharemember_close(this.__wbg_ptr);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * Its id in the share group.
     * @returns {number}
     */
    get id() {
        const ret = wasm.sharemember_id(this.__wbg_ptr);
        return ret;
    }
    /**
     * Whether it left.
     * @returns {boolean}
     */
    get isClosed() {
        const ret = wasm.sharemember_isClosed(this.__wbg_ptr);
        return ret !== 0;
    }
    /**
     * The step behind `for await` (`undefined` once the topic is closed and drained).
     * @returns {Promise<Delivery | undefined>}
     */
    iterNext() {
        const ret = wasm.sharemember_iterNext(this.__wbg_ptr);
        return ret;
    }
    /**
     * Leaves the share group; its unsettled deliveries become ready for others.
     */
    leave() {
        const ret = wasm.sharemember_leave(this.__wbg_ptr);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * Up to `max` (default 1024) ready deliveries, possibly none.
     * @param {number | null} [max_opt]
     * @returns {Delivery[]}
     */
    receiveMany(max_opt) {
        const ret = wasm.sharemember_receiveMany(this.__wbg_ptr, isLikeNone(max_opt) ? 0 : addToExternrefTable0(max_opt));
        if (ret[3]) {
            throw takeFromExternrefTable0(ret[2]);
        }
        var v1 = getArrayJsValueFromWasm0(ret[0], ret[1]);
        wasm.__wbindgen_free(ret[0], ret[1] * 4, 4);
        return v1;
    }
    /**
     * Resolves to the next delivery (waiting for one); rejects with `Closed`.
     * @returns {Promise<Delivery>}
     */
    receive() {
        const ret = wasm.sharemember_receive(this.__wbg_ptr);
        return ret;
    }
    /**
     * The next delivery, or `undefined` when none is ready. Never waits.
     * @returns {Delivery | undefined}
     */
    tryReceive() {
        const ret = wasm.sharemember_tryReceive(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return ret[0] === 0 ? undefined : Delivery.__wrap(ret[0]);
    }
}
if (Symbol.dispose) ShareMember.prototype[Symbol.dispose] = ShareMember.prototype.free;

/**
 * An independent reader over all partitions of a topic.
 */
export class Subscription {
    static __wrap(ptr) {
        const obj = Object.create(Subscription.prototype);
        obj.__wbg_ptr = ptr;
        SubscriptionFinalization.register(obj, obj.__wbg_ptr, obj);
        return obj;
    }
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        SubscriptionFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_subscription_free(ptr, 0);
    }
    /**
     * Stops reading (stops gating a `block` topic); reads then throw `Closed` and
     * a pending `next()` rejects.
     */
    close() {
        const ret = wasm.subscription_close(this.__wbg_ptr);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * The step behind `for await`: the next record, or `undefined` at the end;
     * gaps are counted in `skipped` (unless `onLag: "error"`).
     * @returns {Promise<RingletRecord | undefined>}
     */
    iterNext() {
        const ret = wasm.subscription_iterNext(this.__wbg_ptr);
        return ret;
    }
    /**
     * Records retained but not read yet, over all partitions.
     * @returns {number}
     */
    get lag() {
        const ret = wasm.subscription_lag(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return ret[0];
    }
    /**
     * Resolves to the next record (waiting for one); rejects with `Lagged` at a gap
     * and `Closed` at the end.
     * @returns {Promise<RingletRecord>}
     */
    next() {
        const ret = wasm.subscription_next(this.__wbg_ptr);
        return ret;
    }
    /**
     * Up to `max` (default 1024) ready records, possibly none. A gap after the
     * first record is reported by the next read.
     * @param {number | null} [max_opt]
     * @returns {RingletRecord[]}
     */
    pollMany(max_opt) {
        const ret = wasm.subscription_pollMany(this.__wbg_ptr, isLikeNone(max_opt) ? 0 : addToExternrefTable0(max_opt));
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * The next record, or `undefined` when none is ready. Never waits. Throws
     * `Lagged` once at a gap, `Closed` once the topic is closed and drained.
     * @returns {RingletRecord | undefined}
     */
    poll() {
        const ret = wasm.subscription_poll(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * The next offset this reader will read in each partition.
     * @returns {number[]}
     */
    positions() {
        const ret = wasm.subscription_positions(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * Moves the reader (`start` as in `subscribe`).
     * @param {Start} start
     */
    seek(start) {
        const ret = wasm.subscription_seek(this.__wbg_ptr, start);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * Records skipped over gaps so far.
     * @returns {number}
     */
    get skipped() {
        const ret = wasm.subscription_skipped(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return ret[0];
    }
}
if (Symbol.dispose) Subscription.prototype[Symbol.dispose] = Subscription.prototype.free;

/**
 * A named, partitioned, replayable topic.
 */
export class Topic {
    static __wrap(ptr) {
        const obj = Object.create(Topic.prototype);
        obj.__wbg_ptr = ptr;
        TopicFinalization.register(obj, obj.__wbg_ptr, obj);
        return obj;
    }
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        TopicFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_topic_free(ptr, 0);
    }
    /**
     * Closes it: publishing throws `Closed`; readers drain what is retained, then
     * get `Closed` (iteration ends).
     */
    close() {
        wasm.topic_close(this.__wbg_ptr);
    }
    /**
     * Its configuration (`partitions`, `capacity`, `max_age_ms`, `on_full`).
     * @returns {TopicConfig}
     */
    config() {
        const ret = wasm.topic_config(this.__wbg_ptr);
        return ret;
    }
    /**
     * The oldest retained offset of each partition.
     * @returns {number[]}
     */
    earliestOffsets() {
        const ret = wasm.topic_earliestOffsets(this.__wbg_ptr);
        return ret;
    }
    /**
     * The next offset of each partition.
     * @returns {number[]}
     */
    endOffsets() {
        const ret = wasm.topic_endOffsets(this.__wbg_ptr);
        return ret;
    }
    /**
     * The consumer group of that name. Options (left out: accept what exists):
     * `start` (`"latest"`, `"earliest"`, a `Date`), `autoCommit`,
     * `sessionTimeoutMs`.
     * @param {string} name
     * @param {GroupOptions | null} [options]
     * @returns {Group}
     */
    group(name, options) {
        const ret = wasm.topic_group(this.__wbg_ptr, name, isLikeNone(options) ? 0 : addToExternrefTable0(options));
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return Group.__wrap(ret[0]);
    }
    /**
     * Whether it is closed.
     * @returns {boolean}
     */
    get isClosed() {
        const ret = wasm.topic_isClosed(this.__wbg_ptr);
        return ret !== 0;
    }
    /**
     * Records retained, over all partitions.
     * @returns {number}
     */
    get length() {
        const ret = wasm.topic_length(this.__wbg_ptr);
        return ret;
    }
    /**
     * Its name.
     * @returns {string}
     */
    get name() {
        let deferred1_0;
        let deferred1_1;
        try {
            const ret = wasm.topic_name(this.__wbg_ptr);
            deferred1_0 = ret[0];
            deferred1_1 = ret[1];
            return getStringFromWasm0(ret[0], ret[1]);
        } finally {
            wasm.__wbindgen_free(deferred1_0, deferred1_1, 1);
        }
    }
    /**
     * Per partition, the first offset whose timestamp is at or after `timestamp`
     * (ms or a `Date`), or `null`.
     * @param {number | Date} timestamp
     * @returns {(number | null)[]}
     */
    offsetsForTimes(timestamp) {
        const ret = wasm.topic_offsetsForTimes(this.__wbg_ptr, timestamp);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * Its number of partitions.
     * @returns {number}
     */
    get partitions() {
        const ret = wasm.topic_partitions(this.__wbg_ptr);
        return ret >>> 0;
    }
    /**
     * Publishes, waiting for room on a `block` topic; resolves to the receipt.
     * @param {any} value
     * @param {PublishOptions | null} [options]
     * @returns {Promise<Receipt>}
     */
    publishAsync(value, options) {
        const ret = wasm.topic_publishAsync(this.__wbg_ptr, value, isLikeNone(options) ? 0 : addToExternrefTable0(options));
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * Publishes every value of an array (or iterable); returns how many. Never
     * waits: at a full partition it throws `Full` with `published` (how many went
     * in before).
     * @param {Iterable<any>} values
     * @returns {number}
     */
    publishMany(values) {
        const ret = wasm.topic_publishMany(this.__wbg_ptr, values);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return ret[0] >>> 0;
    }
    /**
     * Publishes `value` (held by reference) with optional `key`, `headers`,
     * `partition` and `timestamp`; returns `{ partition, offset }`. Never waits: a
     * full `block`, `reject` or `keep` partition throws `Full`.
     * @param {any} value
     * @param {PublishOptions | null} [options]
     * @returns {Receipt}
     */
    publish(value, options) {
        const ret = wasm.topic_publish(this.__wbg_ptr, value, isLikeNone(options) ? 0 : addToExternrefTable0(options));
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * The share group of that name (a queue view of the topic). Options (left
     * out: accept what exists): `start`, `visibilityTimeoutMs`, `maxDeliveries`,
     * `maxInFlight`, `deadLetter`.
     * @param {string} name
     * @param {ShareGroupOptions | null} [options]
     * @returns {ShareGroup}
     */
    shareGroup(name, options) {
        const ret = wasm.topic_shareGroup(this.__wbg_ptr, name, isLikeNone(options) ? 0 : addToExternrefTable0(options));
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return ShareGroup.__wrap(ret[0]);
    }
    /**
     * This topic as a plain object (partitions, subscriptions, groups).
     * @returns {TopicSnapshot}
     */
    snapshot() {
        const ret = wasm.topic_snapshot(this.__wbg_ptr);
        return ret;
    }
    /**
     * A new reader over all partitions. Options: `start` (`"latest"` by default,
     * `"earliest"`, an offset, a `Date`, `{ timestamp }`, `[[partition, offset]…]`),
     * `onLag` (`"earliest"`, `"latest"`, `"error"`).
     * @param {SubscribeOptions | null} [options]
     * @returns {Subscription}
     */
    subscribe(options) {
        const ret = wasm.topic_subscribe(this.__wbg_ptr, isLikeNone(options) ? 0 : addToExternrefTable0(options));
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
}
if (Symbol.dispose) Topic.prototype[Symbol.dispose] = Topic.prototype.free;

/**
 * How many distinct JS values the engine holds now, over every bus (records in
 * topics, messages in queues, deliveries and records not yet freed). For leak checks.
 * @returns {number}
 */
export function liveValues() {
    const ret = wasm.liveValues();
    return ret >>> 0;
}
function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
        __wbg___wbindgen_boolean_get_5b446f51afd21013: function(arg0) {
            const v = arg0;
            const ret = typeof(v) === 'boolean' ? v : undefined;
            return isLikeNone(ret) ? 0xFFFFFF : ret ? 1 : 0;
        },
        __wbg___wbindgen_is_function_1f9d30630b8b1d3d: function(arg0) {
            const ret = typeof(arg0) === 'function';
            return ret;
        },
        __wbg___wbindgen_is_null_e343b7d08827ba72: function(arg0) {
            const ret = arg0 === null;
            return ret;
        },
        __wbg___wbindgen_is_object_3c45d4f2dde4e749: function(arg0) {
            const val = arg0;
            const ret = typeof(val) === 'object' && val !== null;
            return ret;
        },
        __wbg___wbindgen_is_undefined_8865fb403f8fe9d8: function(arg0) {
            const ret = arg0 === undefined;
            return ret;
        },
        __wbg___wbindgen_number_get_2e0e7dee9f701a71: function(arg0, arg1) {
            const obj = arg1;
            const ret = typeof(obj) === 'number' ? obj : undefined;
            getDataViewMemory0().setFloat64(arg0 + 8 * 1, isLikeNone(ret) ? 0 : ret, true);
            getDataViewMemory0().setInt32(arg0 + 4 * 0, !isLikeNone(ret), true);
        },
        __wbg___wbindgen_string_get_0380ccaa2f57f0d9: function(arg0, arg1) {
            const obj = arg1;
            const ret = typeof(obj) === 'string' ? obj : undefined;
            var ptr1 = isLikeNone(ret) ? 0 : passStringToWasm0(ret, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            var len1 = WASM_VECTOR_LEN;
            getDataViewMemory0().setInt32(arg0 + 4 * 1, len1, true);
            getDataViewMemory0().setInt32(arg0 + 4 * 0, ptr1, true);
        },
        __wbg___wbindgen_throw_41e9ee4f547fc59a: function(arg0, arg1) {
            throw new Error(getStringFromWasm0(arg0, arg1));
        },
        __wbg___wbindgen_typeof_e777a26e115d416b: function(arg0) {
            const ret = typeof arg0;
            return ret;
        },
        __wbg__wbg_cb_unref_dcc1a90847f04c41: function(arg0) {
            arg0._wbg_cb_unref();
        },
        __wbg_call_187d372bd5fdd4aa: function() { return handleError(function (arg0, arg1, arg2) {
            const ret = arg0.call(arg1, arg2);
            return ret;
        }, arguments); },
        __wbg_call_6137034ef55c9d0f: function() { return handleError(function (arg0, arg1) {
            const ret = arg0.call(arg1);
            return ret;
        }, arguments); },
        __wbg_clearTimeout_c0776160f0a3d373: function(arg0) {
            clearTimeout(arg0);
        },
        __wbg_delivery_new: function(arg0) {
            const ret = Delivery.__wrap(arg0);
            return ret;
        },
        __wbg_done_b41a1d26cdb37fb6: function(arg0) {
            const ret = arg0.done;
            return ret;
        },
        __wbg_entries_fb6397112b1de25f: function(arg0) {
            const ret = Object.entries(arg0);
            return ret;
        },
        __wbg_from_296ca31f8d0f1c52: function(arg0) {
            const ret = Array.from(arg0);
            return ret;
        },
        __wbg_getTime_f5a55efff2585d5d: function(arg0) {
            const ret = arg0.getTime();
            return ret;
        },
        __wbg_get_31af05bd4842a84f: function() { return handleError(function (arg0, arg1) {
            const ret = Reflect.get(arg0, arg1);
            return ret;
        }, arguments); },
        __wbg_get_658f6698067d9515: function() { return handleError(function (arg0, arg1) {
            const ret = Reflect.get(arg0, arg1);
            return ret;
        }, arguments); },
        __wbg_get_6c896e0571ddae51: function(arg0, arg1) {
            const ret = arg0[arg1 >>> 0];
            return ret;
        },
        __wbg_get_unchecked_288889d017702237: function(arg0, arg1) {
            const ret = arg0[arg1 >>> 0];
            return ret;
        },
        __wbg_instanceof_Date_31bc0134230c39be: function(arg0) {
            let result;
            try {
                result = arg0 instanceof Date;
            } catch (_) {
                result = false;
            }
            const ret = result;
            return ret;
        },
        __wbg_instanceof_Uint8Array_828cef2aaacafc31: function(arg0) {
            let result;
            try {
                result = arg0 instanceof Uint8Array;
            } catch (_) {
                result = false;
            }
            const ret = result;
            return ret;
        },
        __wbg_isArray_e15a2ff68ffdbef2: function(arg0) {
            const ret = Array.isArray(arg0);
            return ret;
        },
        __wbg_iterator_e3c31c892080e444: function() {
            const ret = Symbol.iterator;
            return ret;
        },
        __wbg_keys_440be172f17c0265: function(arg0) {
            const ret = Object.keys(arg0);
            return ret;
        },
        __wbg_length_7f3c00c40364105e: function(arg0) {
            const ret = arg0.length;
            return ret;
        },
        __wbg_length_d4bdea10311bd9cf: function(arg0) {
            const ret = arg0.length;
            return ret;
        },
        __wbg_makeReceipt_512adb46ab922158: function(arg0, arg1) {
            const ret = makeReceipt(arg0 >>> 0, arg1);
            return ret;
        },
        __wbg_makeRecord_d296f57200e1b2d6: function(arg0, arg1, arg2, arg3, arg4, arg5) {
            const ret = makeRecord(arg0 >>> 0, arg1, arg2, arg3, arg4, arg5);
            return ret;
        },
        __wbg_member_new: function(arg0) {
            const ret = Member.__wrap(arg0);
            return ret;
        },
        __wbg_new_2bdcdfcebdfc34d2: function(arg0, arg1) {
            const ret = new TypeError(getStringFromWasm0(arg0, arg1));
            return ret;
        },
        __wbg_new_343a093a3c2ffb4e: function(arg0, arg1) {
            const ret = new Error(getStringFromWasm0(arg0, arg1));
            return ret;
        },
        __wbg_new_6ab88fbe741af6b5: function(arg0, arg1) {
            const ret = new RangeError(getStringFromWasm0(arg0, arg1));
            return ret;
        },
        __wbg_new_ee2291f50781bf1d: function() {
            const ret = new Array();
            return ret;
        },
        __wbg_new_from_slice_9a868026ffa4208a: function(arg0, arg1) {
            const ret = new Uint8Array(getArrayU8FromWasm0(arg0, arg1));
            return ret;
        },
        __wbg_new_typed_b01cb72a8af741a3: function(arg0, arg1) {
            try {
                var state0 = {a: arg0, b: arg1};
                var cb0 = (arg0, arg1) => {
                    const a = state0.a;
                    state0.a = 0;
                    try {
                        return wasm_bindgen__convert__closures_____invoke__h27cc74358d2e3401(a, state0.b, arg0, arg1);
                    } finally {
                        state0.a = a;
                    }
                };
                const ret = new Promise(cb0);
                return ret;
            } finally {
                state0.a = 0;
            }
        },
        __wbg_next_33784799010f1bbe: function(arg0) {
            const ret = arg0.next;
            return ret;
        },
        __wbg_next_f4aac29c42af995c: function() { return handleError(function (arg0) {
            const ret = arg0.next();
            return ret;
        }, arguments); },
        __wbg_now_aa4ccb83129e9e55: function() {
            const ret = Date.now();
            return ret;
        },
        __wbg_parse_0fc53dead14b3b42: function() { return handleError(function (arg0, arg1) {
            const ret = JSON.parse(getStringFromWasm0(arg0, arg1));
            return ret;
        }, arguments); },
        __wbg_prototypesetcall_bc27214492979395: function(arg0, arg1, arg2) {
            Uint8Array.prototype.set.call(getArrayU8FromWasm0(arg0, arg1), arg2);
        },
        __wbg_push_2baf45db356cf468: function(arg0, arg1) {
            const ret = arg0.push(arg1);
            return ret;
        },
        __wbg_queueMicrotask_9833f9a49df95a49: function(arg0) {
            const ret = arg0.queueMicrotask;
            return ret;
        },
        __wbg_queueMicrotask_a72f977e97f23c5f: function(arg0) {
            queueMicrotask(arg0);
        },
        __wbg_queue_new: function(arg0) {
            const ret = Queue.__wrap(arg0);
            return ret;
        },
        __wbg_reject_1548d2ad77237dc9: function(arg0) {
            const ret = Promise.reject(arg0);
            return ret;
        },
        __wbg_resolve_0076e10020304ede: function(arg0) {
            const ret = Promise.resolve(arg0);
            return ret;
        },
        __wbg_setTimeout_43d2e2498f8341e8: function(arg0, arg1) {
            const ret = setTimeout(arg0, arg1);
            return ret;
        },
        __wbg_set_145a351398b48c65: function() { return handleError(function (arg0, arg1, arg2) {
            const ret = Reflect.set(arg0, arg1, arg2);
            return ret;
        }, arguments); },
        __wbg_set_name_2c630595dc90a7aa: function(arg0, arg1, arg2) {
            arg0.name = getStringFromWasm0(arg1, arg2);
        },
        __wbg_sharemember_new: function(arg0) {
            const ret = ShareMember.__wrap(arg0);
            return ret;
        },
        __wbg_slice_6da4cdc5d543fcd0: function(arg0, arg1) {
            const ret = arg1.slice();
            const ptr1 = passArrayJsValueToWasm0(ret, wasm.__wbindgen_malloc);
            const len1 = WASM_VECTOR_LEN;
            getDataViewMemory0().setInt32(arg0 + 4 * 1, len1, true);
            getDataViewMemory0().setInt32(arg0 + 4 * 0, ptr1, true);
        },
        __wbg_static_accessor_GLOBAL_266715b9d96ba635: function() {
            const ret = typeof global === 'undefined' ? null : global;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        },
        __wbg_static_accessor_GLOBAL_THIS_10fb7dc1ae063179: function() {
            const ret = typeof globalThis === 'undefined' ? null : globalThis;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        },
        __wbg_static_accessor_SELF_0b583911f537483a: function() {
            const ret = typeof self === 'undefined' ? null : self;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        },
        __wbg_static_accessor_WINDOW_d7f903d1508cbdc4: function() {
            const ret = typeof window === 'undefined' ? null : window;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        },
        __wbg_subscription_new: function(arg0) {
            const ret = Subscription.__wrap(arg0);
            return ret;
        },
        __wbg_then_c949d5a25a4e78f8: function(arg0, arg1, arg2) {
            const ret = arg0.then(arg1, arg2);
            return ret;
        },
        __wbg_then_e71170d78fcf8954: function(arg0, arg1) {
            const ret = arg0.then(arg1);
            return ret;
        },
        __wbg_value_f3c585ee8f5ba40c: function(arg0) {
            const ret = arg0.value;
            return ret;
        },
        __wbindgen_generic_0000000000000001: function(arg0, arg1) {
            // Cast intrinsic for `Closure(Closure { owned: true, function: Function { arguments: [Externref], shim_idx: 173, ret: Result(Unit), inner_ret: Some(Result(Unit)) }, mutable: true }) -> Externref`.
            const ret = makeMutClosure(arg0, arg1, wasm_bindgen__convert__closures_____invoke__h3bb1b673be2e01c1);
            return ret;
        },
        __wbindgen_generic_0000000000000002: function(arg0, arg1) {
            // Cast intrinsic for `Closure(Closure { owned: true, function: Function { arguments: [], shim_idx: 8, ret: Unit, inner_ret: Some(Unit) }, mutable: true }) -> Externref`.
            const ret = makeMutClosure(arg0, arg1, wasm_bindgen__convert__closures_____invoke__h2c52f1721e4bb5a0);
            return ret;
        },
        __wbindgen_generic_0000000000000003: function(arg0) {
            // Cast intrinsic for `F64 -> Externref`.
            const ret = arg0;
            return ret;
        },
        __wbindgen_generic_0000000000000004: function(arg0, arg1) {
            // Cast intrinsic for `Ref(String) -> Externref`.
            const ret = getStringFromWasm0(arg0, arg1);
            return ret;
        },
        __wbindgen_init_externref_table: function() {
            const table = wasm.__wbindgen_externrefs;
            const offset = table.grow(4);
            table.set(0, undefined);
            table.set(offset + 0, undefined);
            table.set(offset + 1, null);
            table.set(offset + 2, true);
            table.set(offset + 3, false);
        },
    };
    return {
        __proto__: null,
        "./ringlet_wasm_bg.js": import0,
        "./snippets/ringlet-wasm-e7f2e8cea70eaec7/inline0.js": import1,
        "./snippets/ringlet-wasm-e7f2e8cea70eaec7/inline1.js": import2,
    };
}

function wasm_bindgen__convert__closures_____invoke__h2c52f1721e4bb5a0(arg0, arg1) {
    wasm.wasm_bindgen__convert__closures_____invoke__h2c52f1721e4bb5a0(arg0, arg1);
}

function wasm_bindgen__convert__closures_____invoke__h3bb1b673be2e01c1(arg0, arg1, arg2) {
    const ret = wasm.wasm_bindgen__convert__closures_____invoke__h3bb1b673be2e01c1(arg0, arg1, arg2);
    if (ret[1]) {
        throw takeFromExternrefTable0(ret[0]);
    }
}

function wasm_bindgen__convert__closures_____invoke__h27cc74358d2e3401(arg0, arg1, arg2, arg3) {
    wasm.wasm_bindgen__convert__closures_____invoke__h27cc74358d2e3401(arg0, arg1, arg2, arg3);
}

const BusFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_bus_free(ptr, 1));
const DeliveryFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_delivery_free(ptr, 1));
const GroupFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_group_free(ptr, 1));
const MemberFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_member_free(ptr, 1));
const QueueFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_queue_free(ptr, 1));
const ShareGroupFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_sharegroup_free(ptr, 1));
const ShareMemberFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_sharemember_free(ptr, 1));
const SubscriptionFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_subscription_free(ptr, 1));
const TopicFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_topic_free(ptr, 1));

function addToExternrefTable0(obj) {
    const idx = wasm.__externref_table_alloc();
    wasm.__wbindgen_externrefs.set(idx, obj);
    return idx;
}

const CLOSURE_DTORS = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(state => wasm.__wbindgen_destroy_closure(state.a, state.b));

function getArrayJsValueFromWasm0(ptr, len) {
    ptr = ptr >>> 0;
    const mem = getDataViewMemory0();
    const result = [];
    for (let i = ptr; i < ptr + 4 * len; i += 4) {
        result.push(wasm.__wbindgen_externrefs.get(mem.getUint32(i, true)));
    }
    wasm.__externref_drop_slice(ptr, len);
    return result;
}

function getArrayU8FromWasm0(ptr, len) {
    ptr = ptr >>> 0;
    return getUint8ArrayMemory0().subarray(ptr / 1, ptr / 1 + len);
}

let cachedDataViewMemory0 = null;
function getDataViewMemory0() {
    if (cachedDataViewMemory0 === null || cachedDataViewMemory0.buffer.detached === true || (cachedDataViewMemory0.buffer.detached === undefined && cachedDataViewMemory0.buffer !== wasm.memory.buffer)) {
        cachedDataViewMemory0 = new DataView(wasm.memory.buffer);
    }
    return cachedDataViewMemory0;
}

function getStringFromWasm0(ptr, len) {
    return decodeText(ptr >>> 0, len);
}

let cachedUint8ArrayMemory0 = null;
function getUint8ArrayMemory0() {
    if (cachedUint8ArrayMemory0 === null || cachedUint8ArrayMemory0.byteLength === 0) {
        cachedUint8ArrayMemory0 = new Uint8Array(wasm.memory.buffer);
    }
    return cachedUint8ArrayMemory0;
}

function handleError(f, args) {
    try {
        return f.apply(this, args);
    } catch (e) {
        const idx = addToExternrefTable0(e);
        wasm.__wbindgen_exn_store(idx);
    }
}

function isLikeNone(x) {
    return x === undefined || x === null;
}

function makeMutClosure(arg0, arg1, f) {
    const state = { a: arg0, b: arg1, cnt: 1 };
    const real = (...args) => {

        // First up with a closure we increment the internal reference
        // count. This ensures that the Rust closure environment won't
        // be deallocated while we're invoking it.
        state.cnt++;
        const a = state.a;
        state.a = 0;
        try {
            return f(a, state.b, ...args);
        } finally {
            state.a = a;
            real._wbg_cb_unref();
        }
    };
    real._wbg_cb_unref = () => {
        if (--state.cnt === 0) {
            wasm.__wbindgen_destroy_closure(state.a, state.b);
            state.a = 0;
            CLOSURE_DTORS.unregister(state);
        }
    };
    CLOSURE_DTORS.register(real, state, state);
    return real;
}

function passArrayJsValueToWasm0(array, malloc) {
    const ptr = malloc(array.length * 4, 4) >>> 0;
    for (let i = 0; i < array.length; i++) {
        const add = addToExternrefTable0(array[i]);
        getDataViewMemory0().setUint32(ptr + 4 * i, add, true);
    }
    WASM_VECTOR_LEN = array.length;
    return ptr;
}

function passStringToWasm0(arg, malloc, realloc) {
    if (realloc === undefined) {
        const buf = cachedTextEncoder.encode(arg);
        const ptr = malloc(buf.length, 1) >>> 0;
        getUint8ArrayMemory0().subarray(ptr, ptr + buf.length).set(buf);
        WASM_VECTOR_LEN = buf.length;
        return ptr;
    }

    let len = arg.length;
    let ptr = malloc(len, 1) >>> 0;

    const mem = getUint8ArrayMemory0();

    let offset = 0;

    for (; offset < len; offset++) {
        const code = arg.charCodeAt(offset);
        if (code > 0x7F) break;
        mem[ptr + offset] = code;
    }
    if (offset !== len) {
        if (offset !== 0) {
            arg = arg.slice(offset);
        }
        ptr = realloc(ptr, len, len = offset + arg.length * 3, 1) >>> 0;
        const view = getUint8ArrayMemory0().subarray(ptr + offset, ptr + len);
        const ret = cachedTextEncoder.encodeInto(arg, view);

        offset += ret.written;
        ptr = realloc(ptr, len, offset, 1) >>> 0;
    }

    WASM_VECTOR_LEN = offset;
    return ptr;
}

function takeFromExternrefTable0(idx) {
    const value = wasm.__wbindgen_externrefs.get(idx);
    wasm.__externref_table_dealloc(idx);
    return value;
}

let cachedTextDecoder = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true });
cachedTextDecoder.decode();
const MAX_SAFARI_DECODE_BYTES = 2146435072;
let numBytesDecoded = 0;
function decodeText(ptr, len) {
    numBytesDecoded += len;
    if (numBytesDecoded >= MAX_SAFARI_DECODE_BYTES) {
        cachedTextDecoder = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true });
        cachedTextDecoder.decode();
        numBytesDecoded = len;
    }
    return cachedTextDecoder.decode(getUint8ArrayMemory0().subarray(ptr, ptr + len));
}

const cachedTextEncoder = new TextEncoder();

if (!('encodeInto' in cachedTextEncoder)) {
    cachedTextEncoder.encodeInto = function (arg, view) {
        const buf = cachedTextEncoder.encode(arg);
        view.set(buf);
        return {
            read: arg.length,
            written: buf.length
        };
    };
}

let WASM_VECTOR_LEN = 0;

let wasmModule, wasmInstance, wasm;
function __wbg_finalize_init(instance, module) {
    wasmInstance = instance;
    wasm = instance.exports;
    wasmModule = module;
    cachedDataViewMemory0 = null;
    cachedUint8ArrayMemory0 = null;
    wasm.__wbindgen_start();
    return wasm;
}

async function __wbg_load(module, imports) {
    if (typeof Response === 'function' && module instanceof Response) {
        if (!module.ok) {
            throw new Error(`failed to fetch Wasm: ${module.status} ${module.statusText} fetching '${module.url}'`);
        }

        if (typeof WebAssembly.instantiateStreaming === 'function') {
            try {
                return await WebAssembly.instantiateStreaming(module, imports);
            } catch (e) {
                const validResponse = expectedResponseType(module.type);

                if (validResponse && module.headers.get('Content-Type') !== 'application/wasm') {
                    console.warn("`WebAssembly.instantiateStreaming` failed because your server does not serve Wasm with `application/wasm` MIME type. Falling back to `WebAssembly.instantiate` which is slower. Original error:\n", e);

                } else { throw e; }
            }
        }

        const bytes = await module.arrayBuffer();
        return await WebAssembly.instantiate(bytes, imports);
    } else {
        const instance = await WebAssembly.instantiate(module, imports);

        if (instance instanceof WebAssembly.Instance) {
            return { instance, module };
        } else {
            return instance;
        }
    }

    function expectedResponseType(type) {
        switch (type) {
            case 'basic': case 'cors': case 'default': return true;
        }
        return false;
    }
}

function initSync(module) {
    if (wasm !== undefined) return wasm;


    if (module !== undefined) {
        if (Object.getPrototypeOf(module) === Object.prototype) {
            ({module} = module)
        } else {
            console.warn('using deprecated parameters for `initSync()`; pass a single object instead')
        }
    }

    const imports = __wbg_get_imports();
    if (!(module instanceof WebAssembly.Module)) {
        module = new WebAssembly.Module(module);
    }
    const instance = new WebAssembly.Instance(module, imports);
    return __wbg_finalize_init(instance, module);
}

async function __wbg_init(module_or_path) {
    if (wasm !== undefined) return wasm;


    if (module_or_path !== undefined) {
        if (Object.getPrototypeOf(module_or_path) === Object.prototype) {
            ({module_or_path} = module_or_path)
        } else {
            console.warn('using deprecated parameters for the initialization function; pass a single object instead')
        }
    }

    if (module_or_path === undefined) {
        module_or_path = new URL('ringlet_wasm_bg.wasm', import.meta.url);
    }
    const imports = __wbg_get_imports();

    if (typeof module_or_path === 'string' || (typeof Request === 'function' && module_or_path instanceof Request) || (typeof URL === 'function' && module_or_path instanceof URL)) {
        module_or_path = fetch(module_or_path);
    }

    const { instance, module } = await __wbg_load(await module_or_path, imports);

    return __wbg_finalize_init(instance, module);
}

export { initSync, __wbg_init as default };
