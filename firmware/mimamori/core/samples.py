# The secrets shipped in boards/*/secrets.sample.json are public: with the sample site key anyone
# who has read the repository can sign commands to the controller and forge the centre's acks;
# the sample codes and card open the panel. A controller running with any of them raises a
# trouble at boot (300 System trouble, `sample_secrets`), shown on the panel and reported
# (issue 10.12). Sans-I/O: it compares the validated secrets with the sample values (the stored
# hashes, so no hashing at boot); host_tests/test_app.py checks these match the sample files.
SAMPLE_SITE_KEY = "53414d504c452d4b45592d646f2d6e6f742d7573652d696e2d612d686f6d6521"
# hash fields of the sample entries: resident code 1234, installer code 5678, card 04A1B2C3
SAMPLE_HASHES = (
    "29183c9b030dc50b18ba1c1fef865a05614413bd540ab1e2e8b7953184d83278",
    "3567a1127f1532a89cdcfe40b3812ee061d6f26348baf031bd0af8e35f0b412c",
    "bc0a0185b91af86888fbbf3a0b260a5c5bbe50270bb8b82f2d2e72f368b59244",
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
