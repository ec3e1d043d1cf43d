//! AS lookups against a DNS server the test runs on 127.0.0.1.

mod support;

use std::net::IpAddr;
use std::thread;
use std::time::{Duration, Instant};

use hoptrace_resolve::{origin_query_name, AsLookup, Lookup};
use support::TestDns;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn in_secs(secs: u64) -> Instant {
    Instant::now() + Duration::from_secs(secs)
}

#[test]
fn finds_origins_from_txt_answers() {
    let v4 = ip("198.18.0.1");
    let v6 = ip("2001:db8::1");
    let dns = TestDns::answering(&[
        (&origin_query_name(v4), "64500 | 198.18.0.0/15 | ZZ | lab | 2024-01-01"),
        (&origin_query_name(v6), "64501 64502 | 2001:db8::/32 | ZZ | lab | 2024-01-01"),
    ]);
    let asns = AsLookup::with_servers(&[dns.addr()], Duration::from_secs(2)).unwrap();

    assert_eq!(asns.wait(v4, in_secs(5)), Some(vec![64500]));
    assert_eq!(asns.wait(v6, in_secs(5)), Some(vec![64501, 64502]));
    assert_eq!(asns.get(v4), Lookup::Found(vec![64500]));
    assert_eq!(dns.queries(), 2, "answers come from the cache");
}

#[test]
fn picks_the_most_specific_of_several_answers() {
    let addr = ip("198.18.2.3");
    let name = origin_query_name(addr);
    let dns = TestDns::answering(&[
        (&name, "64510 | 198.18.0.0/15 | ZZ | lab | 2024-01-01"),
        (&name, "64511 | 198.18.2.0/24 | ZZ | lab | 2024-01-01"),
    ]);
    let asns = AsLookup::with_servers(&[dns.addr()], Duration::from_secs(2)).unwrap();
    assert_eq!(asns.wait(addr, in_secs(5)), Some(vec![64511]));
}

/// The service answered, with nothing usable: no AS (`[*]`), unlike a lookup that could not be made (offline).
#[test]
fn unknown_and_garbled_answers_are_found_without_an_as() {
    let garbled = ip("192.0.2.7");
    let unknown = ip("192.0.2.8");
    let dns = TestDns::answering(&[(&origin_query_name(garbled), "not an origin")]);
    let asns = AsLookup::with_servers(&[dns.addr()], Duration::from_secs(2)).unwrap();

    assert_eq!(asns.wait(garbled, in_secs(5)), Some(vec![]));
    assert_eq!(asns.wait(unknown, in_secs(5)), Some(vec![]));
    assert_eq!(asns.get(garbled), Lookup::Found(vec![]));
    assert_eq!(asns.get(unknown), Lookup::Found(vec![]));
    assert_eq!(dns.queries(), 2);
}

#[test]
fn silent_server_times_out_quietly_and_is_cached() {
    let dns = TestDns::silent();
    let asns = AsLookup::with_servers(&[dns.addr()], Duration::from_millis(200)).unwrap();
    let addr = ip("198.51.100.1");

    let start = Instant::now();
    assert_eq!(asns.get(addr), Lookup::Pending);
    assert_eq!(asns.wait(addr, in_secs(10)), None);
    assert!(start.elapsed() < Duration::from_secs(1), "{:?}", start.elapsed());

    thread::sleep(Duration::from_millis(100));
    let asked = dns.queries();
    assert!(asked >= 1);
    assert_eq!(asns.get(addr), Lookup::Missing);
    thread::sleep(Duration::from_millis(300));
    assert_eq!(dns.queries(), asked, "a missing origin is not asked again");
}

#[test]
fn usable_across_threads_and_drops_with_queries_in_flight() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<AsLookup>();

    let dns = TestDns::silent();
    let asns = AsLookup::with_servers(&[dns.addr()], Duration::from_secs(5)).unwrap();
    thread::scope(|scope| {
        scope.spawn(|| asns.request(ip("203.0.113.1")));
        scope.spawn(|| asns.request(ip("203.0.113.2")));
    });
    let start = Instant::now();
    drop(asns);
    assert!(start.elapsed() < Duration::from_millis(500));
}
