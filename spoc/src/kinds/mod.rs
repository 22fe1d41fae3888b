//! Kind-specific glue for the shared verbs (validate, convert, merge). The logic lives in the
//! library crates; these modules only adapt it to files and flags.

pub mod apparmor;
pub mod seccomp;
pub mod selinux;
