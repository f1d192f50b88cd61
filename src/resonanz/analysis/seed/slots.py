"""Slot fillers for the seed corpus generator: invented company, product and people names.

All names are made up by the team (no real customers); the generator mixes
them so the model learns the shape of a message, not a particular product.
"""

COMPANIES = ["Resonanz Telecom", "NordStrom Energie", "Flinkbank", "Kaufhaus Lindner", "PaketPlus", "Sonnenrad Bikes",
             "Mobilo", "StreamBox", "Alpenflug", "BioMarkt Grün", "CloudNest", "Hausgeist Smart Home"]
PRODUCTS_DE = ["Router", "Handyvertrag", "DSL-Anschluss", "Stromtarif", "Girokonto", "Kreditkarte", "Paket", "E-Bike",
               "App", "Kundenkonto", "Rechnung", "Abo", "Glasfaseranschluss", "Waschmaschine", "Kaffeemaschine",
               "Smartwatch", "Premium-Paket", "Gutschein", "Flug", "Bestellung", "SIM-Karte", "Heizungsthermostat"]
PRODUCTS_EN = ["router", "phone plan", "broadband", "energy tariff", "checking account", "credit card", "parcel",
               "e-bike", "app", "account", "invoice", "subscription", "fibre line", "washing machine",
               "coffee machine", "smartwatch", "premium plan", "gift card", "flight", "order", "SIM card", "thermostat"]
MODELS = ["X200", "FritzMax 7590", "Pro 3", "Mini", "S24", "Comfort Plus", "Basic L", "Ultra", "Go 2", "One"]
COMPETITORS = ["Telefix", "Vodaline", "O-Mobil", "Stromio", "Bankly", "QuickShip", "VeloMax", "StreamFlix", "Skyway"]
NAMES = ["Anna", "Jonas", "Mehmet", "Lena", "Sophie", "Tim", "Fatma", "Lukas", "Sarah", "David", "Emma", "Paul",
         "Olga", "Ben", "Mia", "Chris", "Priya", "Tom", "Julia", "Kevin"]
SURNAMES = ["Müller", "Schmidt", "Yilmaz", "Becker", "Wagner", "Nowak", "Smith", "Jones", "Kaya", "Weber", "Brown"]
ORDER_NO = ["#48213", "4711-2290", "A-99812", "DE-302114", "100238771", "KD-55102", "#77310", "R2024-118"]
AMOUNTS = ["19,99 €", "49 €", "120 Euro", "7,50 €", "300 €", "£12", "$59", "89.90 EUR", "35 Euro", "€15"]
DAYS_DE = ["seit drei Tagen", "seit gestern", "seit heute morgen", "seit einer Woche", "seit zwei Wochen",
           "schon wieder", "seit Montag", "seit über einem Monat", "seit Stunden"]
DAYS_EN = ["for three days", "since yesterday", "since this morning", "for a week", "for two weeks", "again",
           "since Monday", "for over a month", "for hours"]
CITIES = ["Berlin", "Hamburg", "München", "Köln", "Leipzig", "Dresden", "Stuttgart", "Bremen", "London", "Vienna"]
