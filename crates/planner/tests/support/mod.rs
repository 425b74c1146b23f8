pub mod gen;
pub mod mini;
pub mod model;
