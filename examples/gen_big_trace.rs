fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("dir"));
    let apps: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(2500);
    let n = sfsim_replay::generate_2019(&dir, 1, 42, apps, 4).expect("generate");
    println!("{n}");
}
