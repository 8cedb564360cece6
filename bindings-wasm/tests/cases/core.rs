// The core on wasm32-unknown-unknown (included by node.rs and browser.rs).

use std::time::Duration;

use ringlet::{Bus, Clock, ManualClock, QueueConfig, Start, TopicConfig, TryRecvError};
use wasm_bindgen_test::*;

#[wasm_bindgen_test]
fn system_clock_reads_date_now() {
    let now = Clock::System.now_ms();
    assert!(now > 1_600_000_000_000, "{now}");
    assert!((now as f64 - js_sys::Date::now()).abs() < 1000.0);
}

#[wasm_bindgen_test]
fn topic_round_trip_and_lag() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>("t", TopicConfig::default().partitions(3).capacity(4))
        .unwrap();
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    for i in 0..30 {
        t.publish(i).unwrap();
    }
    let mut got = 0;
    let mut skipped = 0;
    loop {
        match sub.try_recv() {
            Ok(_) => got += 1,
            Err(TryRecvError::Lagged { skipped: s, .. }) => skipped += s,
            Err(TryRecvError::Empty) => break,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(got + skipped, 30);
    assert_eq!(got, 12);
}

#[wasm_bindgen_test]
fn queue_redelivery_on_a_manual_clock() {
    let clock = ManualClock::new();
    let bus = Bus::builder().clock(clock.clone()).build();
    let q = bus
        .queue::<&'static str>(
            "jobs",
            QueueConfig::default().visibility_timeout(Duration::from_secs(5)),
        )
        .unwrap();
    q.try_send("a").unwrap();
    let d = q.try_receive().unwrap();
    assert_eq!(bus.next_deadline(), Some(5000));
    clock.advance(Duration::from_secs(5));
    assert!(d.ack().is_err());
    let again = q.try_receive().unwrap();
    assert_eq!(again.attempt(), 2);
    again.ack().unwrap();
}

#[wasm_bindgen_test]
async fn async_receive_is_woken_by_a_send() {
    let bus = Bus::new();
    let q = bus.queue::<u32>("w", QueueConfig::default()).unwrap();
    let rx = q.receive_async();
    let q2 = q.clone();
    wasm_bindgen_futures::spawn_local(async move {
        q2.try_send(7).unwrap();
    });
    let d = rx.await.unwrap();
    assert_eq!(*d.value(), 7);
    d.ack().unwrap();
}

#[wasm_bindgen_test]
async fn delayed_message_fires_through_the_binding_timer() {
    // The JS-facing Bus arms one setTimeout for the next deadline; the Promise of
    // `receive()` resolves when it fires.
    use js_sys::{Function, Object, Promise, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    let bus = ringlet_wasm::Bus::new(None).unwrap();
    let q: JsValue = bus.queue("d".into(), None).unwrap();
    let method =
        |name: &str| -> Function { Reflect::get(&q, &name.into()).unwrap().unchecked_into() };
    let opts = Object::new();
    Reflect::set(&opts, &"delayMs".into(), &20.into()).unwrap();
    let t0 = js_sys::Date::now();
    method("send").call2(&q, &"later".into(), &opts).unwrap();
    let p: Promise = method("receive").call0(&q).unwrap().unchecked_into();
    let d = wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
    assert!(js_sys::Date::now() - t0 >= 19.0);
    let value = Reflect::get(&d, &"value".into()).unwrap();
    assert_eq!(value.as_string().as_deref(), Some("later"));
}

#[wasm_bindgen_test]
fn every_contract_error_name_has_its_own_error_class() {
    for kind in ringlet::ErrorKind::ALL {
        if kind == ringlet::ErrorKind::NoKey {
            continue; // an argument error: a TypeError
        }
        let e = ringlet_wasm::errors::named(kind.as_str(), "m", &[]);
        let ctor = js_sys::Reflect::get(&e, &"constructor".into()).unwrap();
        let class = js_sys::Reflect::get(&ctor, &"name".into()).unwrap();
        assert_eq!(class.as_string().as_deref(), Some(kind.as_str()));
        assert!(wasm_bindgen::JsCast::is_instance_of::<js_sys::Error>(&e));
    }
}
