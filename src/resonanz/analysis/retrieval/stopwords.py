"""German and English stop words.

Kept inline (not imported from bm25s or NLTK) so tokenisation is identical in the
index, the Django side and the evaluation, whatever version of a library is installed.
Besides function words the lists hold greeting and politeness chatter ("hi",
"please", "danke") that customers add and that says nothing about the topic.
"""

from __future__ import annotations

ENGLISH = frozenset(
    """
a about above after again against ain all am an and any are aren as at be because been before being
below between both but by can could couldn d did didn do does doesn doing don down during each few for
from further had hadn has hasn have haven having he her here hers herself him himself his how i if in
into is isn it its itself just ll m ma me might mightn more most must mustn my myself need needn no nor
not now o of off on once only or other our ours ourselves out over own re s same shan she should
shouldn so some such t than that the their theirs them themselves then there these they this those
through to too under until up ve very was wasn we were weren what when where which while who whom why
will with won would wouldn y you your yours yourself yourselves also get got would like want wanna
please pls plz hi hello hey thanks thank thx dear regards cheers ok okay yes yeah one someone
anyone something anything way possible know tell help let could shall may us im id ive dont cant
""".split()
)

GERMAN = frozenset(
    """
aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes anders
auch auf aus bei bin bis bist da damit dann das dass daß dein deine deinem deinen deiner deines dem den
denn der derer des dessen dich die dies diese diesem diesen dieser dieses dir doch dort du durch ein
eine einem einen einer eines einig einige einigem einigen einiger einiges einmal er es etwas euch euer
eure eurem euren eurer eures für gegen gewesen hab habe haben hat hatte hatten hier hin hinter ich ihm
ihn ihnen ihr ihre ihrem ihren ihrer ihres im in indem ins ist jede jedem jeden jeder jedes jene jenem
jenen jener jenes jetzt kann kein keine keinem keinen keiner keines können könnte machen man manche
manchem manchen mancher manches mein meine meinem meinen meiner meines mich mir mit muss musste nach
nicht nichts noch nun nur ob oder ohne sehr sein seine seinem seinen seiner seines selbst sich sie sind
so solche solchem solchen solcher solches soll sollte sondern sonst um und uns unser unsere unserem
unseren unseres unter viel vom von vor war waren warst was weg weil weiter welche welchem welchen
welcher welches wenn werde werden wie wieder will wir wird wirst wo wollen wollte während würde würden
zu zum zur zwar zwischen über bitte hallo danke vielen dank gruß grüße freundlichen moin servus ja
nein mal gerne gern wäre hätte möchte möchten kannst könnt könnten jemand jemanden jemandem niemand
niemanden irgendwas irgendwie
""".split()
)

ALL = ENGLISH | GERMAN
