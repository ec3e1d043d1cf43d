//! Reverse DNS through the worker pool, with the system resolver only for
//! what /etc/hosts answers and fake lookups for everything else.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use hoptrace_resolve::{Lookup, Names, NamesConfig};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn in_secs(secs: u64) -> Instant {
    Instant::now() + Duration::from_secs(secs)
}

fn config(workers: usize, timeout: Duration) -> NamesConfig {
    NamesConfig { workers, timeout }
}

/// A fake lookup that sleeps, counts its calls and names every address
/// except 198.18.255.254.
fn fake(delay: Duration) -> (Arc<AtomicUsize>, impl Fn(IpAddr) -> Option<String> + Send + Sync) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let lookup = move |addr: IpAddr| {
        counter.fetch_add(1, Ordering::SeqCst);
        thread::sleep(delay);
        (addr != ip("198.18.255.254")).then(|| format!("host-{addr}.test"))
    };
    (calls, lookup)
}

/// The names /etc/hosts gives 127.0.0.1.
fn hosts_names_for_loopback() -> Vec<String> {
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    hosts
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            (fields.next() == Some("127.0.0.1")).then(|| fields.map(str::to_owned))
        })
        .flatten()
        .collect()
}

/// True when nsswitch consults /etc/hosts before any other source, so that
/// looking up 127.0.0.1 cannot reach a DNS server.
fn hosts_file_comes_first() -> bool {
    let nsswitch = std::fs::read_to_string("/etc/nsswitch.conf").unwrap_or_default();
    nsswitch
        .lines()
        .find_map(|line| line.trim().strip_prefix("hosts:"))
        .is_some_and(|sources| sources.split_whitespace().next() == Some("files"))
}

#[test]
fn loopback_name_comes_from_etc_hosts() {
    let expected = hosts_names_for_loopback();
    if expected.is_empty() || !hosts_file_comes_first() {
        eprintln!("skipped: /etc/hosts does not name 127.0.0.1 ahead of DNS");
        return;
    }
    let names = Names::new(NamesConfig::default());
    let name = names.wait(ip("127.0.0.1"), in_secs(5)).expect("a name");
    assert!(expected.contains(&name), "{name:?} not in {expected:?}");
    assert_eq!(names.get(ip("127.0.0.1")), Lookup::Found(name));
}

#[test]
fn address_without_name_is_missing() {
    let (_, lookup) = fake(Duration::ZERO);
    let names = Names::with_lookup(config(2, Duration::from_secs(2)), lookup);
    let addr = ip("198.18.255.254");
    assert_eq!(names.wait(addr, in_secs(5)), None);
    assert_eq!(names.get(addr), Lookup::Missing);
}

#[test]
fn empty_name_is_missing() {
    let names = Names::with_lookup(config(1, Duration::from_secs(2)), |_| Some(String::new()));
    assert_eq!(names.wait(ip("192.0.2.1"), in_secs(5)), None);
}

#[test]
fn cached_addresses_are_not_looked_up_again() {
    let (calls, lookup) = fake(Duration::from_millis(20));
    let names = Names::with_lookup(config(4, Duration::from_secs(2)), lookup);
    let (named, nameless) = (ip("192.0.2.1"), ip("198.18.255.254"));
    for _ in 0..5 {
        names.request(named);
        names.request(nameless);
    }
    assert_eq!(names.wait(named, in_secs(5)).as_deref(), Some("host-192.0.2.1.test"));
    assert_eq!(names.wait(nameless, in_secs(5)), None);
    for _ in 0..5 {
        assert_eq!(names.get(named), Lookup::Found("host-192.0.2.1.test".into()));
        assert_eq!(names.get(nameless), Lookup::Missing);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn slow_lookup_times_out_then_lands_in_cache() {
    let (calls, lookup) = fake(Duration::from_millis(500));
    let names = Names::with_lookup(config(1, Duration::from_millis(50)), lookup);
    let addr = ip("192.0.2.9");

    let start = Instant::now();
    assert_eq!(names.wait(addr, in_secs(5)), None);
    assert!(start.elapsed() < Duration::from_millis(300), "{:?}", start.elapsed());
    assert_eq!(names.get(addr), Lookup::Missing);

    thread::sleep(Duration::from_millis(700));
    assert_eq!(names.get(addr), Lookup::Found("host-192.0.2.9.test".into()));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn wait_gives_up_at_the_deadline() {
    let (_, lookup) = fake(Duration::from_millis(300));
    let names = Names::with_lookup(config(1, Duration::from_secs(5)), lookup);
    let addr = ip("192.0.2.10");
    let start = Instant::now();
    assert_eq!(names.wait(addr, start + Duration::from_millis(50)), None);
    assert!(start.elapsed() < Duration::from_millis(250));
    assert_eq!(names.get(addr), Lookup::Pending);
    assert!(names.wait(addr, in_secs(5)).is_some());
}

#[test]
fn lookups_run_in_parallel_on_the_workers() {
    let (calls, lookup) = fake(Duration::from_millis(200));
    let names = Names::with_lookup(config(4, Duration::from_secs(5)), lookup);
    let addrs: Vec<IpAddr> = (1..=8).map(|host| ip(&format!("192.0.2.{host}"))).collect();

    let start = Instant::now();
    for &addr in &addrs {
        names.request(addr);
    }
    assert!(start.elapsed() < Duration::from_millis(50), "request blocks");
    for &addr in &addrs {
        assert!(names.wait(addr, in_secs(5)).is_some(), "{addr}");
    }
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed >= Duration::from_millis(390), "more than 4 at once: {elapsed:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 8);
}

#[test]
fn usable_across_threads_and_drops_without_waiting_for_workers() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Names>();

    let (calls, lookup) = fake(Duration::from_millis(300));
    let names = Names::with_lookup(config(2, Duration::from_secs(5)), lookup);
    thread::scope(|scope| {
        for host in 1..=6 {
            let names = &names;
            scope.spawn(move || names.request(ip(&format!("192.0.2.{host}"))));
        }
    });
    // Let both workers get busy, leaving four lookups queued.
    let busy_by = in_secs(5);
    while calls.load(Ordering::SeqCst) < 2 && Instant::now() < busy_by {
        thread::sleep(Duration::from_millis(5));
    }
    let start = Instant::now();
    drop(names);
    assert!(start.elapsed() < Duration::from_millis(100));

    thread::sleep(Duration::from_millis(400));
    assert_eq!(calls.load(Ordering::SeqCst), 2, "queued lookups are abandoned");
}
