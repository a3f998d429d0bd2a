# What the controller shows: the pins (core and supervision merged, core/panel.py), the panel's
# display line, the troubles, and the retained state frame for Home Assistant and the centre
# (comms/discovery.py).
from mimamori.compat import ticks_ms
from mimamori.core import outputs as out
from mimamori.core import panel
from mimamori.core.troubles import code as trouble_code
from mimamori.comms.discovery import state_payload, ha_state


def render(app, now):
    app.outputs.render(app.resident.merge(
        panel.merge(app.rendered, app.core.outputs, app.sup, app._trouble, now)), now)


def publish(app, moved, now):
    """The retained state frame, when something it shows changed. moved: the supervisor's or
    the storage's troubles may have changed (persist.py). Allocation-free when nothing did."""
    if moved:
        app._trouble = any_trouble(app)
        app._state_dirty = True
    ha = ha_key(app.core)   # the exit delay's end, the siren's cut-off: they emit no event
    if ha != app._ha_key:
        app._ha_key = ha
        app._state_dirty = True
    if app._state_dirty:
        app._state_dirty = False
        app.delivery.publish_state(state_frame(app, now))


def ha_key(core):
    """What Home Assistant's state depends on beyond the events (the end of the exit delay, the
    siren's cut-off emit none), as an int: no allocation."""
    o = core.outputs
    return ((1 if panel.sounding(o) else 0) | (2 if o.arming else 0)
            | (4 if o.buzzer == out.BUZ_ENTRY else 0))


def troubles(app):
    """Every active trouble, [(cid, zone, text)]: the storage's first (a controller that booted
    from damaged flash must say so before anything else), then supervision's."""
    return app.storage.troubles() + app.sup.troubles()


def any_trouble(app):
    """A trouble shown (trouble LED and chirp)."""
    return len(app.sup.troubles()) > 0 or app.storage.active


def state_frame(app, now=None):
    """The retained state: what the panel is doing for Home Assistant, troubles as codes with
    their panel text beside them."""
    c = app.core
    if now is None:
        now = ticks_ms()
    st = c.status(now)
    ha = ha_state(c.mode, panel.sounding(c.outputs), st["exit_delay"],
                  st["entry_delay"] or st["cancel_window"])
    ts = troubles(app)
    # alarm_memory mirrors the panel's memory LED (a silent alarm that the panel does not show
    # is not shown to Home Assistant either)
    return state_payload(app.key, app.site, c.mode, c.phase(), c.outputs.alarm_memory,
                         [trouble_code(t[0]) for t in ts], [z.id for z in c.zones if z.open],
                         app.wall.iso(), ha, [t[2] for t in ts])


def display(app, now):
    """The panel's display line (Japanese): core/panel.py."""
    return panel.display(app.resident.prompt(now), app.core, app.sup.notices(), troubles(app),
                         now)
