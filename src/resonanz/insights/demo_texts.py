"""The demo's post texts (plain data, so benchmarks use them without Django), written by the Resonanz team."""

CALM = [
    "Der Espresso von Kaffeewerk schmeckt mir jeden Morgen, klare Empfehlung.",
    "Hat jemand Erfahrung mit der Kaffeewerk Mühle? Lohnt sich die?",
    "Kaffeewerk Kundenservice hat meine Frage zur Entkalkung schnell beantwortet.",
    "Just tried Kaffeewerk's house blend, smooth and not too bitter.",
    "Kaffeewerk Bohnen im Abo, Lieferung kam pünktlich wie immer.",
    "BrühBar hat neue Filterkaffees im Sortiment, ganz okay.",
    "BrühBar ist mir auf Dauer zu teuer, der Versand kostet extra.",
    "Tassenglück Tassen sind hübsch, aber der Kaffee dort ist mittelmäßig.",
    "Tassenglück app keeps crashing when I try to reorder, annoying.",
    "Vergleich: Kaffeewerk gegen BrühBar, beide solide, Kaffeewerk etwas günstiger.",
    "Wetter grau, Kaffee hilft. Heute mal BrühBar probiert.",
    "Kaffeewerk Filter No. 2 ist mein Favorit für die French Press.",
]
LAUNCH = [
    "Die neue Kaffeewerk Barista Pro ist da, Milchschaum wie im Café!",
    "Barista Pro von Kaffeewerk ausgepackt: schickes Design, leise Pumpe.",
    "Kaffeewerk Barista Pro review: great crema, the steam wand is a bit slow.",
    "Lohnt sich die Barista Pro? Erste Eindrücke sind begeistert.",
    "Barista Pro bestellt, endlich eine Siebträgermaschine von Kaffeewerk.",
]
SPIKE = [
    "Kaffeewerk Lieferung schon wieder verspätet, seit einer Woche warte ich auf mein Paket!",
    "Wo bleibt meine Bestellung bei Kaffeewerk? Lieferung verspätet und niemand antwortet.",
    "Kaffeewerk: Paket beschädigt angekommen und die Lieferung war zehn Tage verspätet. Frechheit.",
    "Kaffeewerk delivery delayed again, my order is two weeks late. Not happy.",
    "Lieferung von Kaffeewerk verspätet, Kundenservice nicht erreichbar, ich storniere.",
]

TEASER = [
    "Kaffeewerk kündigt die Barista Pro an. Weiß jemand schon den Preis?",
    "Gerüchte über die Barista Pro von Kaffeewerk: kommt sie mit Milchaufschäumer?",
    "Is the Kaffeewerk Barista Pro worth waiting for? The teaser looks nice.",
]

# Ideas and suggestions (the dashboard groups them): oat milk asked for more and more, a refill pack, an app.
IDEAS = [
    ("oat", "Kaffeewerk sollte Hafermilch im Abo anbieten, das wäre super."),
    ("oat", "Vorschlag an Kaffeewerk: Hafermilch als Option im Abo, bitte!"),
    ("oat", "Please add oat milk to the Kaffeewerk subscription, that would be great."),
    ("oat", "Wäre toll, wenn es beim Kaffeewerk Abo auch Hafermilch gäbe."),
    ("refill", "Idee: Nachfüllpackungen für die Kaffeewerk Bohnen, weniger Verpackungsmüll."),
    ("refill", "Kaffeewerk könnte Nachfüllbeutel statt Dosen verkaufen, wäre nachhaltiger."),
    ("app", "Ich wünsche mir eine Kaffeewerk App zum schnellen Nachbestellen."),
    ("app", "Eine App zum Nachbestellen bei Kaffeewerk wäre praktisch, bitte einbauen."),
]

# The catalog entries the demo's items name (the engine finds them; the dashboard counts them).
CATALOG = [("Kaffeewerk", "brand"), ("Barista Pro", "product"), ("BrühBar", "competitor"),
           ("Tassenglück", "competitor")]
