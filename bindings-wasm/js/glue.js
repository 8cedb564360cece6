// The JS the Rust side of the package imports (one module, so that a page
// loads it with one request).

// errors.rs
export class RingletError extends Error {}
Object.defineProperty(RingletError.prototype, "name", { value: "RingletError", writable: true, configurable: true });
function kind(name) {
  const C = { [name]: class extends RingletError {} }[name];
  Object.defineProperty(C.prototype, "name", { value: name, writable: true, configurable: true });
  return C;
}
export const Full = kind("Full");
export const Closed = kind("Closed");
export const Lagged = kind("Lagged");
export const Expired = kind("Expired");
export const AlreadySettled = kind("AlreadySettled");
export const Timeout = kind("Timeout");
export const NotOwner = kind("NotOwner");
export const OutOfRange = kind("OutOfRange");
export const VersionConflict = kind("VersionConflict");
export const TypeMismatch = kind("TypeMismatch");
export const ConfigError = kind("ConfigError");
export const NotFound = kind("NotFound");
export const InvalidName = kind("InvalidName");
export const StreamError = kind("StreamError");
export const Corrupt = kind("Corrupt");
export const Locked = kind("Locked");
export const Io = kind("Io");
export const SchemaError = kind("SchemaError");
export const Busy = kind("Busy");
const byName = { Full, Closed, Lagged, Expired, AlreadySettled, Timeout, NotOwner, OutOfRange,
  VersionConflict, TypeMismatch, ConfigError, NotFound, InvalidName, StreamError, Corrupt, Locked,
  Io, SchemaError, Busy };
export function ringletError(name, message) {
  return new (byName[name] ?? RingletError)(message);
}

// records.rs
export function makeRecord(partition, offset, timestamp, key, headers, value) {
  return { partition, offset, timestamp, key, headers: headers === undefined ? [] : headers, value };
}
export function makeReceipt(partition, offset) {
  return { partition, offset };
}

// lib.rs
export function installAsyncIterator(obj) {
  const proto = Object.getPrototypeOf(obj);
  if (Object.prototype.hasOwnProperty.call(proto, Symbol.asyncIterator)) return;
  proto[Symbol.asyncIterator] = async function* () {
    for (;;) {
      const item = await this.iterNext();
      if (item === undefined) return;
      yield item;
    }
  };
}

// convert.rs
export function dateMs(v) { try { return v instanceof Date ? Date.prototype.getTime.call(v) : undefined; } catch (e) { return undefined; } }

// streams.rs
export function installBranch(obj) {
  const proto = Object.getPrototypeOf(obj);
  if (Object.prototype.hasOwnProperty.call(proto, "branch")) return;
  proto.branch = function (...preds) { return this.branchAll(preds); };
}
export function windowed(start, end, value) { return { start, end, value }; }
export function windowedEntry(key, start, end, value) { return { key, start, end, value }; }
