//! `GET /`, `GET /reports`, `GET /api/*`: the read side of support-sla behind the HTTP API,
//! served by `lambda::read::ReadFunction` (`api::read_router` over the DynamoDB table).
//!
//! Its only secret is the read token, required: `SUPPORT_SLA_READ_TOKEN`, from the Secrets
//! Manager secret `SUPPORT_SLA_READ_TOKEN_SECRET_ID` names.

pub use lambda::read::{READ_SECRETS as SECRETS, ReadFunction};
