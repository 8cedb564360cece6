//! Extensions: state that a layer above keeps on a handle of the layer below,
//! keyed by its type (the `http::Extensions` pattern). A topic keeps its consumer
//! and share groups this way, and a bus its topologies and event stores, so the
//! lower layer never names the upper one and the modules' imports run one way.

use std::any::{Any, TypeId};
use std::sync::Arc;

use crate::sync::Mutex;

type Slot = (TypeId, Arc<dyn Any + Send + Sync>);

/// A set of values, at most one per type. Slow path only: a lock and a short scan.
#[derive(Default)]
pub(crate) struct Extensions {
    slots: Mutex<Vec<Slot>>,
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extensions")
            .field("len", &self.slots.lock().len())
            .finish()
    }
}

impl Extensions {
    /// The value of type `X`, made with `X::default()` if there is none yet.
    pub(crate) fn get_or_default<X: Default + Send + Sync + 'static>(&self) -> Arc<X> {
        let mut slots = self.slots.lock();
        if let Some(x) = find::<X>(&slots) {
            return x;
        }
        let x = Arc::new(X::default());
        slots.push((TypeId::of::<X>(), x.clone()));
        x
    }

    /// The value of type `X`, if one was set.
    pub(crate) fn get<X: Send + Sync + 'static>(&self) -> Option<Arc<X>> {
        find::<X>(&self.slots.lock())
    }

    /// Sets the value of type `X`; an earlier one is dropped after the lock is
    /// released.
    pub(crate) fn insert<X: Send + Sync + 'static>(&self, x: X) {
        let x: Arc<dyn Any + Send + Sync> = Arc::new(x);
        let old = {
            let mut slots = self.slots.lock();
            match slots.iter_mut().find(|(id, _)| *id == TypeId::of::<X>()) {
                Some(slot) => Some(std::mem::replace(&mut slot.1, x)),
                None => {
                    slots.push((TypeId::of::<X>(), x));
                    None
                }
            }
        };
        drop(old);
    }
}

fn find<X: Send + Sync + 'static>(slots: &[Slot]) -> Option<Arc<X>> {
    slots
        .iter()
        .find(|(id, _)| *id == TypeId::of::<X>())
        .and_then(|(_, x)| x.clone().downcast::<X>().ok())
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Extensions;

    #[test]
    fn one_value_per_type() {
        let e = Extensions::default();
        assert!(e.get::<u32>().is_none());
        assert_eq!(*e.get_or_default::<u32>(), 0);
        e.insert(7u32);
        e.insert(String::from("x"));
        assert_eq!(
            (
                *e.get::<u32>().unwrap(),
                e.get::<String>().unwrap().as_str()
            ),
            (7, "x")
        );
        assert_eq!(*e.get_or_default::<u32>(), 7);
    }
}
