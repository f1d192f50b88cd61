"""A realistic German and English sample, written by the Resonanz team for `resonanz demo`.

Each scenario is one customer concern: the first message, the agent's answer, and optionally
the customer's follow-up. Names and products are invented.
"""

FIRST_NAMES_DE = ["Anna", "Lukas", "Sophie", "Jonas", "Marie", "Felix", "Lea", "Paul", "Hannah", "Elias",
                  "Emilia", "Ben", "Lina", "Noah", "Clara", "Finn", "Mia", "Leon", "Greta", "Moritz"]
LAST_NAMES_DE = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
                 "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann"]
FIRST_NAMES_EN = ["Olivia", "James", "Amelia", "Oliver", "Isla", "Harry", "Ava", "Jack", "Emily", "George",
                  "Grace", "Noah", "Chloe", "Leo", "Ella", "Oscar", "Lily", "Arthur", "Ruby", "Henry"]
LAST_NAMES_EN = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
                 "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood"]

AGENTS = [
    ("sarah.koenig@demo.resonanz.example", "Sarah König", "SK", "supervisor", "de", ["Support", "PR"]),
    ("tom.berger@demo.resonanz.example", "Tom Berger", "TB", "agent", "de", ["Support"]),
    ("lisa.hartmann@demo.resonanz.example", "Lisa Hartmann", "LH", "agent", "de", ["Sales"]),
    ("mike.evans@demo.resonanz.example", "Mike Evans", "ME", "agent", "en", ["Support", "Marketing"]),
    ("julia.frank@demo.resonanz.example", "Julia Frank", "JF", "agent", "de", ["Legal", "Support"]),
]

CHANNELS = [
    ("web_form", "Demo: Kontaktformular"),
    ("api", "Demo: Shop-System"),
    ("api", "Demo: Chat"),
    ("api", "Demo: Social Media"),
]

# (language, team, subject, first message, agent reply, follow-up or "")
SCENARIOS = [
    ("de", "Support", "Lieferung fehlt", "Hallo, meine Bestellung {order} sollte laut Tracking gestern kommen, ist aber "
     "nicht da. Können Sie nachsehen?", "Hallo {name}, danke für Ihre Nachricht. Das Paket liegt im Verteilzentrum "
     "und kommt morgen. Sorry für die Verzögerung!", "Danke, ist angekommen!"),
    ("de", "Support", "Passwort vergessen", "Ich komme nicht mehr in mein Kundenkonto, der Link zum Zurücksetzen kommt "
     "nicht an.", "Hallo {name}, bitte schauen Sie auch im Spam-Ordner nach. Ich habe den Link eben neu geschickt.", ""),
    ("de", "Support", "Rechnung doppelt abgebucht", "Sie haben mir die Rechnung {order} zweimal abgebucht!!! Ich "
     "erwarte sofort eine Erstattung.", "Hallo {name}, das tut mir leid. Die doppelte Abbuchung ist storniert, das "
     "Geld ist in 3–5 Werktagen zurück.", "Okay, ich warte ab."),
    ("de", "Support", "Gerät startet nicht", "Mein Resonanz Hub X2 startet seit dem Update nicht mehr. Die LED blinkt "
     "nur rot.", "Hallo {name}, bitte halten Sie die Reset-Taste 10 Sekunden gedrückt. Hilft das nicht, tauschen wir "
     "das Gerät aus.", "Reset hat geholfen, danke!"),
    ("de", "Sales", "Angebot für 50 Lizenzen", "Guten Tag, wir sind ein Team von 50 Leuten und interessieren uns für "
     "Ihre Business-Lizenz. Gibt es Mengenrabatt?", "Guten Tag {name}, ab 25 Lizenzen gewähren wir 15 % Rabatt. Ich "
     "schicke Ihnen gern ein Angebot.", "Ja, bitte schicken Sie das Angebot."),
    ("de", "Sales", "Frage zum Tarif", "Was ist der Unterschied zwischen Basis und Premium? Lohnt sich der Wechsel?",
     "Hallo {name}, Premium enthält zusätzlich Telefon-Support und 1 TB Speicher. Bei Ihrer Nutzung lohnt es sich.", ""),
    ("de", "Support", "Kündigung", "Hiermit kündige ich meinen Vertrag zum nächstmöglichen Zeitpunkt. Der Service "
     "ist einfach zu teuer geworden.", "Hallo {name}, schade, dass Sie gehen möchten. Darf ich Ihnen einen Treuerabatt "
     "von 20 % anbieten?", "Na gut, mit Rabatt bleibe ich."),
    ("de", "Legal", "Widerspruch Datennutzung", "Ich widerspreche der Nutzung meiner Daten für Werbung und verlange "
     "Auskunft nach Art. 15 DSGVO. Sonst schalte ich meinen Anwalt ein.", "Hallo {name}, Ihr Widerspruch ist "
     "vermerkt. Die Auskunft erhalten Sie innerhalb der gesetzlichen Frist per Post.", ""),
    ("de", "Marketing", "Idee: Dunkelmodus", "Ihr solltet unbedingt einen Dunkelmodus in der App einbauen, abends "
     "blendet das total.", "Danke für die Idee, {name}! Ich habe sie an unser Produktteam weitergegeben.", ""),
    ("de", "PR", "Presseanfrage", "Ich schreibe für ein Technikmagazin über Kundenservice und hätte gern ein kurzes "
     "Interview.", "Hallo {name}, sehr gern. Unsere Pressesprecherin meldet sich heute bei Ihnen.", ""),
    ("de", "Support", "Lob für Hotline", "Wollte nur mal sagen: Eure Hotline war heute super freundlich und schnell. "
     "Danke an Herrn Berger!", "Vielen Dank, {name}, das freut uns sehr und geht direkt an Tom weiter!", ""),
    ("de", "Support", "Störung Internet", "Seit heute Morgen geht in 10115 Berlin kein Internet. Wann ist das behoben?",
     "Hallo {name}, es gibt eine Störung im Netzknoten Mitte. Die Technik ist vor Ort, Ziel ist 16 Uhr.",
     "Jetzt geht es wieder."),
    ("de", "Support", "Umtausch Größe", "Die Schuhe aus Bestellung {order} sind zu klein. Kann ich sie gegen 43 "
     "tauschen?", "Hallo {name}, klar! Das Retourenetikett ist in Ihrem Kundenkonto, die 43 ist reserviert.", ""),
    ("de", "Support", "App stürzt ab", "Die App stürzt beim Öffnen der Rechnungen immer ab (Android 14).",
     "Hallo {name}, danke für den Hinweis. Das ist ein bekannter Fehler, Version 3.2.1 behebt ihn heute Abend.", ""),
    ("de", "Sales", "Rückruf erbeten", "Bitte rufen Sie mich wegen eines Firmenvertrags zurück, am besten vormittags.",
     "Hallo {name}, gern. Ich rufe Sie morgen um 10 Uhr an.", ""),
    ("de", "Support", "Lieferadresse ändern", "Kann ich bei Bestellung {order} noch die Lieferadresse ändern? Ich bin "
     "umgezogen.", "Hallo {name}, ja, ich habe die neue Adresse eingetragen. Die Sendung ist noch nicht raus.", ""),
    ("de", "Support", "Gutschein funktioniert nicht", "Der Gutscheincode WINTER25 wird im Warenkorb als ungültig "
     "angezeigt.", "Hallo {name}, der Code gilt ab 50 € Bestellwert. Ich habe Ihnen 5 € gutgeschrieben.", ""),
    ("de", "Support", "Wartezeit Hotline", "Ich hänge seit 45 Minuten in Ihrer Warteschleife. Das ist eine Frechheit.",
     "Hallo {name}, das ist wirklich zu lang, entschuldigen Sie bitte. Wie kann ich Ihnen hier helfen?",
     "Mein Router ist defekt."),
    ("de", "Marketing", "Newsletter abbestellen", "Bitte keinen Newsletter mehr an mich schicken.",
     "Hallo {name}, erledigt: Sie erhalten keinen Newsletter mehr.", ""),
    ("de", "Support", "Ersatzteil", "Gibt es für die Kaffeemaschine Barista 500 noch einen Ersatz-Wassertank?",
     "Hallo {name}, ja, Artikelnummer BT-500-W für 19,90 €. Soll ich ihn für Sie bestellen?", "Ja bitte."),
    ("en", "Support", "Order not received", "Hi, my order {order} was marked delivered but nothing arrived. Can you "
     "help?", "Hi {name}, sorry about that! I've opened a claim with the courier and will send a replacement today.",
     "Thanks a lot!"),
    ("en", "Support", "Refund status", "I returned my headphones two weeks ago. Where is my refund?",
     "Hi {name}, the refund was issued yesterday and should show on your card within 3 business days.", ""),
    ("en", "Support", "Can't log in", "The app keeps saying 'invalid token' when I try to log in. Already "
     "reinstalled.", "Hi {name}, please update to version 3.2.1, which fixes the token error.", "Works now, cheers."),
    ("en", "Sales", "Enterprise pricing", "We're evaluating your platform for 200 seats. Do you offer SSO and annual "
     "billing?", "Hi {name}, yes to both. I'll send our enterprise sheet and suggest a call this week.",
     "Thursday 3pm works."),
    ("en", "Support", "Cancel subscription", "Please cancel my subscription, I'm switching to another provider.",
     "Hi {name}, I'm sorry to see you go. Your subscription ends on the 30th; no further charges.", ""),
    ("en", "Legal", "Formal complaint", "This is a formal complaint. If you don't fix the billing error by Friday I "
     "will take legal action.", "Dear {name}, we take this seriously. The billing error is corrected and a credit "
     "note is on its way.", ""),
    ("en", "Marketing", "Feature idea", "Would love an export to CSV for my purchase history. Would make taxes so much "
     "easier!", "Great idea, {name}! I've added it to our ideas board where others can vote.", ""),
    ("en", "PR", "Influencer collaboration", "Hi, I run a tech channel with 80k subscribers and would like to review "
     "your new speaker.", "Hi {name}, thanks for reaching out! Our PR team will send you the details.", ""),
    ("en", "Support", "Damaged item", "The mug arrived broken :( order {order}", "Hi {name}, oh no! A new mug is on "
     "its way, no need to send the broken one back.", "You're the best!"),
    ("en", "Support", "Outage?", "Is your service down? Nothing loads since 9am.", "Hi {name}, yes, we had an outage "
     "from 9:05 to 9:40. Everything is back to normal now.", ""),
    ("en", "Support", "Thanks!", "Just wanted to say your support team is amazing. Fixed my issue in 5 minutes.",
     "Thank you so much, {name}! Made our day.", ""),
    ("en", "Sales", "Student discount", "Do you have a student discount?", "Hi {name}, yes: 30 % with a valid "
     "student ID. Here's how to apply.", ""),
    ("en", "Support", "Change payment method", "How do I switch from credit card to PayPal?", "Hi {name}, go to "
     "Account → Payment and choose PayPal. The change applies to your next invoice.", ""),
    ("en", "Support", "Wrong item", "I ordered the blue jacket in M and received a red one in L.", "Hi {name}, "
     "apologies for the mix-up. The right jacket ships today; keep the red one or donate it.", ""),
    ("en", "Support", "Warranty", "My blender stopped working after 14 months. Is it still under warranty?",
     "Hi {name}, yes, you have 24 months of warranty. Please send it in with the attached label.", ""),
    ("en", "Support", "Spam?", "WIN A FREE IPHONE!!! click here www.totally-legit.example", "", ""),
    ("en", "Support", "Delivery time to Austria", "How long does shipping to Vienna take?", "Hi {name}, usually 2–3 "
     "business days.", ""),
    ("de", "Support", "Spam?", "Gewinnen Sie jetzt 1000 € !!! Klicken Sie hier", "", ""),
    ("de", "Support", "Öffnungszeiten", "Wie lange hat die Filiale in Köln samstags geöffnet?", "Hallo {name}, "
     "samstags von 9 bis 18 Uhr.", ""),
    ("de", "Support", "Vertrag übernehmen", "Meine Mutter ist verstorben. Wie kann ich ihren Vertrag übernehmen oder "
     "kündigen?", "Hallo {name}, mein herzliches Beileid. Senden Sie uns bitte eine Kopie der Sterbeurkunde, den "
     "Rest erledigen wir für Sie.", ""),
]

NOTES_DE = ["Kunde ist VIP, bitte bevorzugt behandeln.", "Rückfrage bei der Buchhaltung läuft.",
            "Hat schon zweimal angerufen.", "Fall ähnelt #Störung von letzter Woche."]
NOTES_EN = ["Customer is a reseller, check account type.", "Escalated to 2nd level.",
            "Asked accounting to double-check.", "Same issue as last week's outage."]

# The help center of the demo shop: (category key, German title, German text, German example questions,
# English title, English text, English example questions). Each pair is one article and its translation;
# the virtual agent answers the simple questions of the demo conversations from them.
CATEGORIES = {
    "account": ("Account and billing", "Konto und Zahlung", "Passwords, invoices, payment methods, contracts"),
    "orders": ("Orders and shipping", "Bestellung und Versand", "Delivery, returns, exchanges"),
    "devices": ("Devices and service", "Geräte und Service", "Set-up, resets, warranty, shops"),
}
ARTICLES = [
    ("account", "Passwort zurücksetzen",
     "Sie kommen nicht mehr in Ihr Kundenkonto? So setzen Sie Ihr Passwort zurück:\n\n"
     "1. Öffnen Sie die Anmeldeseite und wählen Sie **Passwort vergessen**.\n"
     "2. Geben Sie Ihre E-Mail-Adresse ein. Wir schicken Ihnen einen Link, der 24 Stunden gilt.\n"
     "3. Kommt keine E-Mail an, schauen Sie bitte auch im Spam-Ordner nach.",
     "Passwort vergessen\nWie setze ich mein Passwort zurück?\nIch komme nicht mehr in mein Konto\n"
     "Der Link zum Zurücksetzen kommt nicht an",
     "Reset your password",
     "Can't get into your account? Reset your password like this:\n\n"
     "1. Open the sign-in page and choose **Forgot password**.\n"
     "2. Enter your email address. We send you a link that is valid for 24 hours.\n"
     "3. No email? Please check your spam folder too.",
     "I forgot my password\nHow do I reset my password?\nI can't log in to my account\n"
     "The reset link does not arrive"),
    ("account", "Zahlungsart ändern",
     "Sie können jederzeit zwischen Kreditkarte, PayPal, Lastschrift und Rechnung wechseln: Öffnen Sie "
     "**Konto → Zahlung** und wählen Sie die neue Zahlungsart. Die Änderung gilt ab der nächsten Rechnung.",
     "Wie ändere ich meine Zahlungsart?\nKann ich mit PayPal bezahlen?\nVon Kreditkarte auf Lastschrift wechseln",
     "Change your payment method",
     "You can switch between credit card, PayPal, direct debit and invoice at any time: open **Account → "
     "Payment** and choose the new method. The change applies from your next invoice.",
     "How do I change my payment method?\nHow do I switch from credit card to PayPal?\nCan I pay with PayPal?"),
    ("account", "Rabatt für Studierende",
     "Studierende erhalten 30 % Rabatt auf alle Tarife. Laden Sie dazu unter **Konto → Rabatte** Ihren "
     "gültigen Studierendenausweis hoch; der Rabatt gilt ab der nächsten Rechnung für 12 Monate.",
     "Gibt es einen Studentenrabatt?\nRabatt für Studenten\nStudierendenrabatt beantragen",
     "Student discount",
     "Students get 30 % off every plan. Upload your valid student ID under **Account → Discounts**; the "
     "discount applies from your next invoice for 12 months.",
     "Do you have a student discount?\nIs there a discount for students?\nHow do I apply for the student "
     "discount?"),
    ("orders", "Lieferzeiten und Versandkosten",
     "Wir liefern innerhalb Deutschlands in 1–2 Werktagen, nach Österreich und in die Schweiz in 2–3 "
     "Werktagen. Ab 50 € Bestellwert ist der Versand kostenlos, darunter kostet er 4,90 €.",
     "Wie lange dauert der Versand?\nWas kostet der Versand?\nLiefern Sie nach Österreich?\nVersandkosten",
     "Delivery times and shipping costs",
     "We deliver within Germany in 1–2 business days and to Austria and Switzerland in 2–3 business days. "
     "Shipping is free from 50 €; below that it costs 4.90 €.",
     "How long does shipping take?\nHow long does shipping to Vienna take?\nWhat does shipping cost?\n"
     "Do you ship to Austria?"),
    ("orders", "Rücksendung und Umtausch",
     "Sie können jede Bestellung innerhalb von 30 Tagen zurückschicken oder umtauschen. Das kostenlose "
     "Retourenetikett finden Sie in Ihrem Kundenkonto unter **Bestellungen**. Die Erstattung kommt "
     "spätestens 5 Werktage nach Eingang der Ware.",
     "Wie schicke ich etwas zurück?\nKann ich die Größe umtauschen?\nWo finde ich das Retourenetikett?",
     "Returns and exchanges",
     "You can return or exchange any order within 30 days. The free return label is in your account under "
     "**Orders**. The refund arrives at the latest 5 business days after we receive the goods.",
     "How do I return an item?\nCan I exchange the size?\nWhere is my return label?"),
    ("devices", "Resonanz Hub X2 neu starten",
     "Startet Ihr Hub X2 nicht oder blinkt die LED rot, halten Sie die **Reset-Taste** auf der Rückseite 10 "
     "Sekunden gedrückt, bis die LED weiß leuchtet. Ihre Einstellungen bleiben erhalten.",
     "Der Hub startet nicht\nDie LED blinkt rot\nWie setze ich den Hub X2 zurück?",
     "Restarting the Resonanz Hub X2",
     "If your Hub X2 does not start or its LED blinks red, hold the **reset button** on the back for 10 "
     "seconds until the LED turns white. Your settings are kept.",
     "My hub does not start\nThe LED blinks red\nHow do I reset the Hub X2?"),
    ("devices", "Öffnungszeiten unserer Filialen",
     "Unsere Filialen haben montags bis samstags von 9 bis 18 Uhr geöffnet, in Berlin und Köln donnerstags bis "
     "20 Uhr. An Feiertagen bleiben sie geschlossen.",
     "Wann haben Sie geöffnet?\nWie lange hat die Filiale samstags geöffnet?\nÖffnungszeiten der Filiale",
     "Opening hours of our shops",
     "Our shops are open Monday to Saturday from 9:00 to 18:00, in Berlin and Cologne until 20:00 on "
     "Thursdays. They are closed on public holidays.",
     "When are you open?\nAre your shops open on Saturday?\nOpening hours of the shop"),
    ("devices", "Garantie und Reparatur",
     "Auf alle Geräte gewähren wir 24 Monate Garantie ab Kaufdatum. Melden Sie einen Defekt unter **Konto → "
     "Geräte**; wir schicken Ihnen ein kostenloses Versandetikett und reparieren oder tauschen das Gerät.",
     "Ist mein Gerät noch in der Garantie?\nWie lange gilt die Garantie?\nGerät defekt, Reparatur",
     "Warranty and repairs",
     "All devices come with a 24-month warranty from the date of purchase. Report a defect under **Account → "
     "Devices**; we send you a free shipping label and repair or replace the device.",
     "Is my device still under warranty?\nHow long is the warranty?\nMy device is broken, repair"),
]

# Simple factual questions: the virtual agent answers them from the articles above (no agent reply needed).
# (language, team, subject, first message)
BOT_QUESTIONS = [
    ("de", "Support", "Passwort", "Ich habe mein Passwort vergessen. Wie setze ich mein Passwort zurück?"),
    ("en", "Support", "Password", "I forgot my password. How do I reset my password?"),
    ("de", "Support", "Versand", "Wie lange dauert der Versand nach Österreich?"),
    ("en", "Support", "Shipping", "How long does shipping to Austria take?"),
    ("de", "Support", "Öffnungszeiten", "Wie lange hat die Filiale samstags geöffnet?"),
    ("en", "Support", "Payment method", "How do I change my payment method to PayPal?"),
    ("de", "Support", "Rücksendung", "Wo finde ich das Retourenetikett für meine Rücksendung?"),
    ("en", "Support", "Student discount", "Do you have a student discount?"),
]

# The listening stream: public posts about the demo company on blogs, forums and news sites, German and English.
# (source title, author, language, title, text, followers)
POSTS = [
    ("Technikblog Nord", "Jana Peters", "de", "Hub X2 im Test: schnell eingerichtet",
     "Der Resonanz Hub X2 war in zehn Minuten eingerichtet, die App ist übersichtlich. Klare Empfehlung.", 4200),
    ("Technikblog Nord", "Jana Peters", "de", "Update 3.2 bringt Dunkelmodus?",
     "Laut Changelog kommt mit 3.2 endlich ein Dunkelmodus für die Resonanz App. Darauf haben viele gewartet.",
     4200),
    ("Forum Heimnetz", "netzwerker77", "de", "Hub X2 startet nach Update nicht",
     "Seit dem letzten Update blinkt mein Hub X2 nur noch rot. Geht das noch jemandem so? Ziemlich ärgerlich.",
     120),
    ("Forum Heimnetz", "tobi_k", "de", "Re: Hub X2 startet nach Update nicht",
     "Reset-Taste 10 Sekunden halten, dann läuft er wieder. Hat bei mir geholfen.", 80),
    ("Verbraucherportal", "Redaktion", "de", "Kundenservice im Vergleich",
     "Im Vergleich der Hotlines schnitt Resonanz am besten ab: kurze Wartezeiten, freundliche Beratung.", 25000),
    ("Verbraucherportal", "Redaktion", "de", "Ärger über doppelte Abbuchungen",
     "Ärgerlich: Mehrere Leser berichten, dass Resonanz Rechnungen doppelt abgebucht hat. Viele sind verärgert, "
     "die Hotline ist kaum zu erreichen.", 25000),
    ("Kaffee-Forum", "crema_queen", "de", "Barista 500: Wassertank gesprungen",
     "Mein Wassertank der Barista 500 hat einen Riss. Ersatzteil gibt es zum Glück für 19,90 €.", 300),
    ("Kaffee-Forum", "bohnenfan", "de", "Barista 500 oder Konkurrenz?",
     "Überlege zwischen Barista 500 und der Kaffeefix Pro. Die Barista hat den besseren Milchschaum.", 150),
    ("Gadget Weekly", "Sam Carter", "en", "Hands-on: Resonanz Hub X2",
     "The Hub X2 is fast to set up and the app is clean. Battery life could be better, but we like it.", 58000),
    ("Gadget Weekly", "Sam Carter", "en", "Resonanz outage this morning",
     "Several angry readers report that Resonanz services were down from 9 to 9:40. Terrible timing, and support "
     "did not answer.",
     58000),
    ("Home Network Forum", "routerguy", "en", "Hub X2 blinking red after update",
     "My Hub X2 blinks red since the update and will not start. Support told me to hold reset for 10 s.", 90),
    ("Home Network Forum", "lena_s", "en", "Re: Hub X2 blinking red",
     "Same here, the reset fixed it. Took two minutes.", 60),
    ("Coffee Lovers", "beanjunkie", "en", "Barista 500 review",
     "Great espresso, easy to clean, the milk foam is excellent. Best machine I have owned.", 2100),
    ("Coffee Lovers", "morning_brew", "en", "Barista 500 delivery took forever",
     "Ordered the Barista 500 two weeks ago and it still has not arrived. Not impressed so far.", 400),
    ("Tech Deals", "dealhunter", "en", "Resonanz student discount",
     "Resonanz gives students 30 % off all plans. Worth it if you need the premium storage.", 7000),
    ("Tech Deals", "dealhunter", "en", "Black Friday: Hub X2 for 99",
     "The Hub X2 drops to 99 this week. Good price for what it does.", 7000),
]
