//! The monthly customer-service report (客服工作月报).
