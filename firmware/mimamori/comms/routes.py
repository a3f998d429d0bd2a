# Building the report paths of comms.paths (in priority order) and their Router.
#
# The MQTT path is built here over the given link (comms/path_mqtt.py); every other path by its
# factory (factories: name -> f(app) -> comms.paths.Path, a test's from host_tests), else by its
# name (the landline's: comms/path_landline.py; DC-09's: comms/path_dc09.py). A new path:
# one module and a branch in make().
from mimamori.comms.paths import Router
from mimamori.comms.path_mqtt import MqttPath, NAME as PATH_MQTT
from mimamori.comms.discovery import iter_payloads
from mimamori.core.sealing import ha_token


def routes(config):
    """comms.paths, validated: [{"name", "kinds"}] (MQTT only when absent)."""
    return config["comms"].get("paths") or [{"name": PATH_MQTT, "kinds": None}]


def build(app, link, factories, now):
    """The Router over every configured path; the MQTT path's Delivery is app.delivery."""
    config = app.config
    rs = routes(config)
    mqtt = MqttPath(app.journal, link, app.key, app.site, config["comms"]["mqtt"]["ack_deadline_s"],
                    on_command=app.ops.remote, log=app.log)
    app.delivery = mqtt.delivery
    app.delivery.on_time = app.reports.centre_time
    made = {PATH_MQTT: mqtt}
    for r in rs:
        name = r["name"]
        if name not in made:
            f = (factories or {}).get(name)
            made[name] = f(app) if f else make(name, app)
    # Home Assistant discovery (alarm panel + a binary sensor per zone), retained, sent at the
    # start of every MQTT session; the token is HA's proof to the centre's bridge.
    token = ha_token(app.key, app.site)
    app.delivery.publish_retained(lambda: iter_payloads(config, token))
    return Router(app.journal, [made[r["name"]] for r in rs], [r["kinds"] for r in rs], now,
                  on_delivered=app.reports.delivered, on_late=app.reports.late, log=app.log)


def make(name, app):
    if name == "landline":
        from mimamori.comms.path_landline import make as landline
        return landline(app.config["comms"]["landline"], app.journal, app._machine, app.log)
    if name == "dc09":
        from mimamori.comms.path_dc09 import make as dc09
        p = dc09(app.config["comms"]["dc09"], app.journal, app.wall,
                 app.wifi.wlan if app.wifi else None, app.log)
        # the link down after its retries is the path's comm trouble (350, on the other paths);
        # its next ACK ends it (core/watch/comm.py)
        p.on_link = lambda ok, now: (app.sup.report_delivered(name, now) if ok else
                                     app.sup.test_result(name, False, now))
        return p
    raise ValueError("comms.paths: no transport for path %r" % (name,))
