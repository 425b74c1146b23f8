/// Defines one test per supported PostgreSQL major, named
/// `<name>::pg<major>`, each with a fresh cluster:
///
/// ```ignore
/// pg_test!(fn grants_show_up(pg) { pg.execute("..."); });
/// ```
///
/// The default test command selects majors with a name filter.
#[macro_export]
macro_rules! pg_test {
    ($(#[$meta:meta])* fn $name:ident($pg:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn body($pg: &mut $crate::Pg) $body
            $(#[$meta])* #[test] fn pg13() { body(&mut $crate::Pg::start(13)) }
            $(#[$meta])* #[test] fn pg14() { body(&mut $crate::Pg::start(14)) }
            $(#[$meta])* #[test] fn pg15() { body(&mut $crate::Pg::start(15)) }
            $(#[$meta])* #[test] fn pg16() { body(&mut $crate::Pg::start(16)) }
            $(#[$meta])* #[test] fn pg17() { body(&mut $crate::Pg::start(17)) }
            $(#[$meta])* #[test] fn pg18() { body(&mut $crate::Pg::start(18)) }
        }
    };
}
