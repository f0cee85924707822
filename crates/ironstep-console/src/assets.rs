//! The console's files, embedded in the binary (no CDN, works offline). Hand-written ES
//! modules and CSS, no build step: what is in `assets/` is what the browser gets.

/// `(name, content type, bytes)`.
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../assets/index.html"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/style.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/app.js"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/api.js"),
    ),
    (
        "ui.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/ui.js"),
    ),
    (
        "graph.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graph.js"),
    ),
    (
        "pages.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/pages.js"),
    ),
    (
        "execution.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/execution.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../assets/favicon.svg"),
    ),
];

/// A file's bytes and content type.
pub fn get(name: &str) -> Option<(&'static [u8], &'static str)> {
    FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, mime, body)| (*body, *mime))
}

/// Every file with its size (for the page-weight report).
pub fn sizes() -> Vec<(&'static str, usize)> {
    FILES.iter().map(|(n, _, b)| (*n, b.len())).collect()
}
