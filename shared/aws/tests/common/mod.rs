//! The moto helpers, shared with the Lambda functions' tests: `aws::test_support`.

pub use aws::test_support::*;
