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
