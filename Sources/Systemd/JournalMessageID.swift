/// Stable 128-bit journal MESSAGE_IDs, one per event kind, so operators can
/// `journalctl MESSAGE_ID=…` and `journalctl -x` finds the explanation in
/// systemd/wbkeyd.catalog. They are UUIDv5 of the event name under a fixed
/// namespace and never change once shipped; a test keeps the catalog in step.
public enum JournalMessageID {
    public static let byEvent: [String: String] = [
        "daemon_started": "5fafccc5199c5039a9d6c3cb020b0364",
        "daemon_stopped": "bb644ba4d4e55afda3bedc9a1c81a29c",
        "config_reloaded": "bce595bff1335e169232341ad9777292",
        "authorization_received": "0b25e375fc645f6e839f43a50a187072",
        "authorization_rejected": "104693f30b505ba883a14ff8215f22ed",
        "authorization_duplicate": "ca6651e0edb851f2b7609094c6b936c5",
        "token_exchanged": "ed77383777c451638e6bdfebea8612c5",
        "token_exchange_failed": "a756aed161995b76b6a66f58cbe3f033",
        "key_detected": "d54b9392d3ea556e867a2ec6347592ea",
        "key_not_created": "2aadd42543cd5fccae45a4e5ef0dbe56",
        "secret_secured": "e0da182c7e0459dc965887defacb1161",
        "secret_lost": "d469673a206c5cba974bc2804974c089",
        "secret_read": "d7efda59f97550a9aea9050891aa0d78",
        "key_disabled": "50216e23228853a1b39a34b4096273f1",
        "key_gone": "e98e866d10ed513da7d5acbdb650f445",
        "reconcile_drift": "812a61625aac5474b3362e83d8cdb31d",
        "revoke_requested": "179d7495c04f536ca85125f84abed018",
        "key_revoked": "cfe10ccefd3152e5911d2c6fe5c2ebeb",
        "key_revoke_failed": "4e834bd21c0957099a6d8da43cb50619",
        "token_expired": "1a4502bba0685e409d1a4637d8902100",
        "audit_pruned": "68ea22b60c6f5fe480c979301fb2a735",
        "authorize_url_issued": "fec493dca1d44c64a340edc95cfe7cd2",
        "command_refused": "4faa24087b9445cca3b83c199bb410f4",
        "audit_head": "908825909a6150d9bfbbd2f01d871b22",
        "audit_keyed": "be24c6c713c15f24a98bbfb3172de1ee",
        "audit_witness_mismatch": "01640a0c78a05319b2d435d500edd425",
        "audit_prune_refused": "2fe8f73f7d9659b5be72a89c7b784368",
        "master_key_rewrapped": "462421a29f57566a889c0f3658f49c65",
        "config_rejected": "e24055d0dc885259941179f59afbebc1",
        "audit_write_failed": "1ec09a8bdb3f52c3b0ca7961cd69bec1",
        "whitebit_request_failed": "2fb191107ff95f4997cd3b8f2fe4767f",
        "daemon_degraded": "3afea4a5e7b85eb88d0c5e69421733a7",
        "watchdog_stalled": "19aafc3c9a8253ffa778fe2e68fd075c",
        "store_backed_up": "526c3fb042a041b2b9bf32769d889d9f",
        "log_entries_left_out": "b0fab7bc0ed4437590856061147caaa3",
    ]
}
