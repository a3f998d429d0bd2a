# Resident-facing Japanese texts (panel display, centre pane, reports, Home Assistant names),
# declared here once and imported everywhere. The display's bitmap font is generated from the
# glyphs these texts use, so a text added anywhere else would be missing from the font: add it
# here. Keys that are Contact ID codes are the standard's numbers (SIA DC-05), the same values as
# core/events.py CID_*; this module imports only the vocabulary, so anything may import it.
from mimamori.core.vocab import MODE_AWAY, MODE_DISARMED, MODE_PARTIAL, MODE_STAY

# Arm modes (core/vocab.py MODES).
MODE_LABELS = {
    MODE_DISARMED: "解除",
    MODE_AWAY: "外出",
    MODE_STAY: "在宅セット",
    MODE_PARTIAL: "部分セット",
}

# Seed service categories (secom-home-security-contract.txt, 【サービス一覧】 A-H).
SERVICE_LABELS = {
    "A": "防犯",
    "B": "火災",
    "C": "非常通報",
    "D": "救急",
    "E": "ガス漏れ",
    "F": "断線",
    "G": "設備",
    "H": "ライフ",
}

# Contact ID code -> the label residents and the centre read (core/events.py CATALOGUE).
EVENT_LABELS = {
    100: "救急",
    110: "火災",
    111: "火災(煙)",
    114: "火災(熱)",
    120: "非常",
    130: "侵入",
    131: "侵入(外周)",
    132: "侵入(屋内)",
    133: "振動",
    134: "侵入(出入口)",
    137: "いたずら(本体)",
    144: "いたずら(センサー)",
    151: "ガス漏れ",
    155: "ガラス破壊",
    300: "初期設定の鍵・暗証番号",
    301: "停電",
    305: "再起動",
    302: "電池低下",
    307: "自己診断異常(保存データ破損)",
    624: "記録メモリ満杯",
    330: "カードリーダー故障",
    350: "通信異常(MQTT)",
    351: "断線(電話回線)",
    354: "通報失敗(MQTT)",
    380: "センサー故障",
    401: "外出セット/解除",
    406: "キャンセル",
    461: "暗証番号誤り(ロック)",
    441: "在宅セット",
    454: "セット忘れ",
    456: "部分セット",
    570: "バイパス",
    601: "点検(手動試験)",
    602: "定期通信試験",
    641: "ライフ監視",
    101: "救急(みつめてコール)",
    102: "しらせてコール 応答なし",
    121: "強要",
    607: "歩行試験",
    627: "施工モード(監視停止)",
}
RESTORED = " 復旧"          # after a label when the condition has ended
# A restore whose plain "<label> 復旧" would mislead the operator: its own label.
RESTORE_LABELS = {102: "しらせてコール 応答あり"}

# Panel / `state` topic text of each supervised condition (core/troubles.py).
# `%s` takes a path name or a zone name, `%d` a zone number or hours.
TROUBLE_TEXT = {
    137: "本体のふたが開いています(いたずら)",
    144: "センサーいたずら ゾーン%d",
    301: "停電中(バッテリーで動作中)",
    302: "バッテリー電圧低下(交換してください)",
    350: "通信異常(%s): 試験通報が届きません",
    354: "通報不能(%s): %d時間 通報できていません",
    351: "電話回線 異常: %s",
    380: "センサー故障 ゾーン%d %s(%d時間以上 開いたまま)",
    641: "ライフ監視 異常(%d時間 動きがありません)",
    454: "セット忘れ: 外出セットしてください",
    300: "初期設定の鍵・暗証番号のままです(変更してください)",
    330: "カードリーダー異常(カードが使えません)",
}
LINE_CUT = "断線"
LINE_TEST_FAILED = "試験通報失敗"
LIST_SEP = "・"             # between the reasons of one trouble
NAME_SEP = "、"             # between zone names
SELF_CHECK_DUE = "月1回の点検の時期です(点検を開始してください)"
SELF_CHECK_RUNNING = "点検中"
SELF_CHECK_RESULT = "点検結果 "
CHECK_OK = "正常"
CHECK_NG = "異常"

# Saved data (store/health.py).
STORAGE_DAMAGED = "保存データ破損(点検してください)"
STORAGE_FAIL_SECURE = "保存データ破損: 外出セットで起動しました(点検してください)"
STORAGE_FULL = "記録メモリ満杯: 保存できません(通報は続けます)"

# Arming and the delays (core/arming_state.py).
ARMED = "セットしました"
ARM_REFUSED = "セットできません"
ARMED_BYPASSING = "バイパスしてセット: "
ARM_REFUSED_OPEN = "セットできません: %s が開いています"
EXIT_COUNTDOWN = "外出セット中 あと%d秒"
ENTRY_COUNTDOWN = "解除してください あと%d秒"
CANCEL_COUNTDOWN = "キャンセルしてください あと%d秒"
ALARM_MEMORY = "異常 %s %s"
ALARM_MEMORY_TIMES = "異常 %s %s (%d回)"

# Operations' answers on the panel (operations.py).
DONE = {"disarm": "解除しました", "cancel": "キャンセルしました",
        "reset": "異常表示をリセットしました", "self_check": "点検を開始します",
        "answer": "確認しました"}
LOCKED = "ロック中です"
WRONG_CODE_OR_CARD = "暗証番号またはカードが違います"
ASK_PREFIX = "しらせてコール: "
ASK_DEFAULT = "確認ボタンを押してください"
NO_CLOCK = "時計が未設定です"
DEPARTURE_SET = "外出予定時刻を設定しました"
UNKNOWN_CARD = "登録されていないカードです"
CARD_REVOKED = "カードを無効にしました"
TEST_SENDING = "試験通報を送ります"

# Remote commands (core/commands.py): the label for the panel and logs.
COMMAND_LABELS = {
    "arm": "遠隔セット",
    "disarm": "遠隔解除",
    "status": "状態確認",
    "test": "通報試験",
    "shirasete": "しらせてコール",
    "set_departure": "外出予定時刻",
    "revoke_card": "カード無効化",
}

# Home Assistant names (comms/discovery.py): what a resident reads in the HA app.
ZONE_TYPE_LABELS = {"magnet": "マグネット", "glass": "ガラス破壊", "fire": "火災", "gas": "ガス",
                    "vibration": "振動", "space": "空間", "panic": "非常", "medical": "救急",
                    "cancel": "キャンセル", "tamper": "いたずら",
                    "case_tamper": "いたずら(本体)"}
HA_PROBLEM = "故障・異常"
HA_PATHS = "通報経路"
HA_BATTERY = "バッテリー"
HA_DEVICE = "見守り "


# ---- walk test (core/walktest.py, operations.py; issue 13) ----------------------------------
WALK_ON = "歩行試験中"                       # the panel while no sensor has triggered yet
WALK_ZONE = "歩行試験 %s %s"                 # 歩行試験 玄関ドア 検知
WALK_ACTIVE = "検知"
WALK_CLEAR = "復旧"
WALK_START = " 開始"                        # after the 607 label: start / end
WALK_END = " 終了"
WALK_STARTED = "歩行試験を開始します"
WALK_ENDED = "歩行試験を終了しました (未検知 %d)"
WALK_NOT_INSTALLER = "歩行試験は施工者コードで開始します"
WALK_NOT_DISARMED = "解除してから歩行試験を開始してください"

# ---- installer mode: the USB REPL (mimamori/usbrepl.py; issue 13) ------------------------------
REPL_OPEN = "施工モード: %d分以内にUSBで接続してください"
REPL_NOT_INSTALLER = "施工モードは施工者コードで開始します"


# ---- residents at the panel: keys, cards, roles, lockout, watch-over calls, door chime (issue 14,
# core/keys.py, core/watchover.py, core/chime.py, mimamori/resident.py, mimamori/operations.py)
KEY_CODE = "暗証番号 "                      # + one * per digit typed (the digits never show)
KEY_SELECTED = {"arm_away": "外出セット: 暗証番号と#", "arm_stay": "在宅セット: 暗証番号と#",
                "arm_partial": "部分セット: 暗証番号と#", "disarm": "解除: 暗証番号と#",
                "reset": "異常リセット: 暗証番号と#", "self_check": "点検: 暗証番号と#"}
KEY_FUNCTION = "機能: 1#みつめて 2#チャイム 3#リセット 4#点検"
KEY_UNKNOWN_FUNCTION = "その機能はありません"
REVOKED_CARD = "無効にされたカードです"
LOCKED_LEFT = "ロック中です あと%d分%02d秒"  # minutes, seconds left of the lockout
NOT_ALLOWED = "この暗証番号では操作できません"
INSTALLER_ARMED = "セット中は施工モードに入れません"
CARD_NEEDS_CODE = "カードを確認しました 暗証番号と#"
CARD_CODE_MISMATCH = "カードと暗証番号の持ち主が違います"
PANEL_PANIC = "操作パネル 非常キー"          # zone name of a 120 from the panel's key
PANEL_MEDICAL = "操作パネル 救急キー"        # zone name of a 100 from the panel's key
WATCH_STARTED = "みつめてコール開始 %d分"
WATCH_RUNNING = "みつめてコール中 あと%d分"
WATCH_WARN = "みつめてコール: ボタンを押してください あと%d秒"
WATCH_ENDED = "みつめてコールを終了しました"
WATCH_REPORTED = "みつめてコール: 通報しました"
CALL_ASK = "しらせてコール: "                 # + the centre's question
CALL_DEFAULT = "確認ボタンを押してください"
CALL_ANSWERED = "確認しました"
CHIME_ON = "チャイム 入"
CHIME_OFF = "チャイム 切"

# ---- the panel's OLED (mimamori/screen.py; issue 14, display) ----
SCREEN_OPEN = "開 "              # before an open door or window: 開 玄関ドア
SCREEN_TROUBLE = "故障 "         # before a trouble: 故障 停電
SCREEN_MEMORY = "記憶 "          # before an older alarm-memory line (the latest is on line 1)
SCREEN_MORE = "ほか%d件"         # the details did not fit: how many more
SCREEN_FLAG_TROUBLE = " 故障"    # in the title bar: a trouble is shown below
SCREEN_FLAG_MEMORY = " 異常記憶"  # in the title bar: the alarm memory is set
