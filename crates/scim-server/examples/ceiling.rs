//! The benchmark's ceiling (issue #7): the cheapest actix-web handler there is, a fixed 1 KB
//! JSON body, served with the same runtime and worker count as the server. `bench/load.py`
//! measures it in the same run as the server's scenarios, so each scenario can be reported as
//! a fraction of what one HTTP round trip costs on that machine.
//!
//!     cargo build --release --example ceiling
//!     target/release/examples/ceiling 127.0.0.1:9000

use actix_web::{App, HttpResponse, HttpServer, web};

/// A SCIM-looking user document padded to exactly 1,024 bytes.
fn body() -> String {
    let head = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"2819c223-7f76-453a-919d-413861904646","userName":"bjensen@example.com","padding":""#;
    let tail = r#""}"#;
    let pad = 1024usize.saturating_sub(head.len() + tail.len());
    format!("{head}{}{tail}", "x".repeat(pad))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".to_owned());
    let body = web::Bytes::from(body());
    HttpServer::new(move || {
        let body = body.clone();
        App::new().default_service(web::to(move || {
            let body = body.clone();
            async move {
                HttpResponse::Ok()
                    .content_type("application/scim+json")
                    .body(body)
            }
        }))
    })
    .bind(listen)?
    .run()
    .await
}
