//! Properties of merging (CLI-15, CLI-16, RC-23) over generated profiles.

use proptest::prelude::*;
use spo_apparmor::{merge, normalize, render, validate, AppArmorProfile};

use crate::corpus::abstract_;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    // covers: CLI-15, CLI-16, RC-23
    #[test]
    fn cli_15_merge_is_order_independent_idempotent_and_valid(a in abstract_(), b in abstract_()) {
        let pa = AppArmorProfile::new("a", a);
        let pb = AppArmorProfile::new("b", b);
        let ab = merge(&[pa.clone(), pb.clone()]).unwrap();
        let ba = merge(&[pb.clone(), pa.clone()]).unwrap();
        prop_assert_eq!(&ab.spec.abstract_, &ba.spec.abstract_);
        prop_assert_eq!(&ab.metadata.name, "a");
        // Merging again changes nothing; the normalised merge covers both inputs (CLI-16).
        prop_assert_eq!(&normalize(&ab), &ab);
        prop_assert_eq!(&merge(&[ab.clone(), pa.clone()]).unwrap(), &ab);
        prop_assert_eq!(&merge(&[ab.clone(), pb]).unwrap(), &ab);
        prop_assert!(validate(&ab, None).is_empty());
        prop_assert!(render(&ab, None).is_ok());
    }
}
