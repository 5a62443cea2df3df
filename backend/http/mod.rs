//! The HTTP surface: routes, CORS, request ids, and the one error -> HTTP mapping.
mod auth;
mod body;
mod chat;
mod chat_sse;
mod client_address;
mod cors;
mod error;
mod guard;
mod probes;
mod request_context;

pub use error::{turn_status, ApiError};
pub use request_context::X_REQUEST_ID;

use crate::state::AppState;
use actix_web::{middleware, web, App};

/// Build the app for one worker. With config problems only the probes are served; every
/// other route answers 503, so a bad deploy fails closed but can still say why.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let config_ok = state.readiness.config_ok();
    let cors = cors::cors(&state.settings);
    App::new()
        .app_data(state)
        .wrap(cors)
        .wrap(middleware::from_fn(request_context::request_context))
        .route("/health", web::get().to(probes::health))
        .route("/ready", web::get().to(probes::ready))
        .configure(|cfg| {
            if config_ok {
                cfg.service(web::resource("/api/chat").route(web::post().to(chat::chat)))
                    .route("/metrics", web::get().to(probes::metrics));
            }
        })
        .default_service(web::to(move || async move {
            if config_ok {
                Err::<actix_web::HttpResponse, _>(ApiError::NotFound)
            } else {
                Err(ApiError::NotReady)
            }
        }))
}
