# The secrets shipped in boards/*/secrets.sample.json are public: with the sample site key anyone
# who has read the repository can sign commands to the controller and forge the centre's acks;
# the sample codes and card open the panel. A controller running with any of them raises a
# trouble at boot (300 System trouble, `sample_secrets`), shown on the panel and reported
# (issue 10.12). Sans-I/O: it compares the validated secrets with the sample values (the stored
# hashes, so no hashing at boot); host_tests/test_app.py checks these match the sample files.
SAMPLE_SITE_KEY = "53414d504c452d4b45592d646f2d6e6f742d7573652d696e2d612d686f6d6521"
# hash fields of the sample entries: resident code 1234, installer code 5678, card 04A1B2C3
SAMPLE_HASHES = (
    "91126e1c5cf9c3e6806324a4b5ba19e2147fd4d7fe4420dc293106f53a3092c6",
    "e2636497441c4bdacb5bcc998ab7e40e7abe2fc3bce9c0127d6b4013deb841b8",
    "d9a29058f2dfa05e5a0d5c29f32028e88a3f50004d64678bc483063267087446",
)


def sample_secrets(secrets):
    """Names (never values) of the sample secrets in use: "site_key", "code of user 1",
    "card 1"; [] when none."""
    found = []
    if str(secrets.get("site_key", "")).lower() == SAMPLE_SITE_KEY:
        found.append("site_key")
    for u in secrets.get("users") or ():
        code = u.get("code") or {}
        if str(code.get("hash", "")).lower() in SAMPLE_HASHES:
            found.append("code of user %s" % u.get("id"))
    for c in secrets.get("cards") or ():
        uid = c.get("uid") or {}
        if str(uid.get("hash", "")).lower() in SAMPLE_HASHES:
            found.append("card %s" % c.get("id"))
    return found
