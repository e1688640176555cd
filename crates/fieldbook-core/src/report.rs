//! The bilingual (zh-CN / en) service report PDF: the signed on-site repair record.
//! (Being written: see `render`.)

use crate::error::{Error, Result};
use crate::import::Company;
use crate::model::Part;
use crate::store::WorkOrderDetail;

/// Renders the service report of one work order as PDF bytes.
pub fn render(_detail: &WorkOrderDetail, _company: Option<&Company>, _parts: &[Part]) -> Result<Vec<u8>> {
    Err(Error::Report("not implemented yet".into()))
}
