pub mod gen;
pub mod gen_privileges;
pub mod mini;
pub mod model;
