"""Word lists of the synthetic twin: per class, per confusable group, and shared by all.

Each list is ordered from most to least typical; the text generator draws from it with
Zipf-like weights, so the first words are frequent and the tail is rare, as in real
product titles. Class words are what a model can learn; group words are what makes
siblings (e.g. the four book classes) hard to tell apart; generic words, brands and
numbers are noise every class shares.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Words:
    """French and English words of one class or group, plus its brand names."""

    fr: tuple[str, ...]
    en: tuple[str, ...]
    brands: tuple[str, ...] = ()


def _w(fr: str, en: str, brands: str = "") -> Words:
    """Build :class:`Words` from ``|``-separated lists (entries may hold spaces)."""
    split = lambda s: tuple(w.strip() for w in s.split("|") if w.strip())  # noqa: E731
    return Words(split(fr), split(en), split(brands))


CLASS_WORDS: dict[int, Words] = {
    10: _w(
        "livre ancien|édition originale|reliure cuir|in-8|in-12|exemplaire|frontispice|gravures|"
        "ex-libris|mémoires|traité|tome premier|envoi autographe|XIXe siècle|dos à nerfs|planches|"
        "rousseurs|réimpression|vieux papiers|bibliophilie|maroquin|incunable",
        "antique book|first edition|leather binding|hardcover|volume|engravings|memoirs|treatise|"
        "signed copy|nineteenth century|plates|foxing|reprint|bookplate|ex library",
        "Hachette|Garnier|Plon|Calmann-Lévy|Larousse|Mame|Nelson",
    ),
    2280: _w(
        "revue|magazine|journal|numéro|n°|hebdomadaire|mensuel|quotidien|illustré|supplément|"
        "abonnement|éditorial|article|dossier spécial|une|gazette|le monde illustré|paris match|"
        "l'illustration|le petit journal|hors-série|périodique",
        "magazine|issue|weekly|monthly|newspaper|illustrated|supplement|editorial|feature|"
        "special issue|periodical|back issue|vintage magazine|cover story",
        "Paris Match|Le Figaro|L'Express|Télérama|Elle|Le Point|Historia|Géo",
    ),
    2403: _w(
        "lot de livres|lot|collection complète|tomes|manga|bd|bande dessinée|série complète|"
        "intégrale|coffret|volumes|lot de revues|carton de livres|mangas|albums|lot de bd|"
        "tome 1 à|vrac|ensemble de",
        "book lot|bundle|set of books|complete series|box set|manga lot|comics|volumes|"
        "collection|job lot|bulk|graphic novels",
        "Glénat|Dargaud|Kana|Dupuis|Casterman|Pika|Marvel",
    ),
    2705: _w(
        "roman|poche|broché|neuf|auteur|récit|nouvelle|polar|thriller|essai|biographie|"
        "littérature|poésie|préface|collection folio|prix goncourt|histoire vraie|témoignage|"
        "conte|chronique|best-seller",
        "novel|paperback|new|author|story|short stories|crime|thriller|essay|biography|"
        "literature|poetry|foreword|bestseller|memoir|fiction",
        "Gallimard|Folio|Pocket|J'ai Lu|Seuil|Albin Michel|Flammarion|Actes Sud",
    ),
    40: _w(
        "jeu vidéo|import jap|version française|pal|ntsc|boîte|notice|cd-rom|dvd-rom|cartouche|"
        "rpg|jeu d'aventure|jeu de course|jeu de combat|édition collector|platinum|occasion|"
        "jeu ps2|jeu wii|jeu gamecube",
        "video game|japanese import|pal version|boxed|manual|cartridge|disc|rpg|adventure game|"
        "racing game|fighting game|collector edition|greatest hits|retro game",
        "Ubisoft|Capcom|Konami|Square Enix|Electronic Arts|Sega|Bandai Namco",
    ),
    50: _w(
        "manette|chargeur|câble|housse|stylet|support|protection|volant|casque gaming|"
        "adaptateur|batterie|étui|joystick|grip|station de charge|skin|coque|accessoire|"
        "fauteuil gaming|clavier gamer",
        "controller|charger|cable|case|stylus|stand|protector|steering wheel|gaming headset|"
        "adapter|battery|pouch|joystick|grip|charging dock|skin|accessory|gaming chair",
        "Speedlink|Hori|Turtle Beach|Razer|Logitech|PowerA|Nacon|Thrustmaster",
    ),
    60: _w(
        "console|console portable|console rétro|mini console|jeux intégrés|lecteur de jeu|"
        "écran|8 bits|16 bits|sortie tv|hdmi|console de poche|émulateur|jeux classiques|"
        "pack console|console de salon",
        "console|handheld console|retro console|mini console|built-in games|game player|screen|"
        "8-bit|16-bit|tv out|hdmi|pocket console|emulator|classic games|console bundle",
        "Nintendo|Sony|Microsoft|Sega|Atari|Anbernic",
    ),
    2462: _w(
        "lot de jeux|lot console|pack|console + jeux|avec manette|bundle|lot complet|jeux + "
        "console|avec jeux|en l'état|complet en boîte|lot de cartouches|lot ps2|lot wii|lot ds",
        "games bundle|console lot|bundle|console + games|with controller|job lot|boxed lot|"
        "as is|untested|games lot",
        "Nintendo|Sony|Microsoft|Sega",
    ),
    2905: _w(
        "jeu pc|jeu en téléchargement|téléchargement|code d'activation|steam|windows|extension|"
        "season pass|dlc|clé|pc dvd|version numérique|origin|uplay|mac",
        "pc game|digital download|download|activation code|steam key|windows|expansion|season "
        "pass|dlc|key|pc dvd|digital edition|mac",
        "Steam|Ubisoft|Focus Home|Paradox|Bethesda|Deep Silver",
    ),
    1280: _w(
        "jouet|peluche|poupée|puzzle|voiture miniature|figurine enfant|jouet éducatif|hochet|"
        "marionnette|dinosaure|jouet en bois|déguisement|circuit|train électrique|jeu de "
        "construction|cuisine enfant|voiture radiocommandée|licorne|poupon",
        "toy|plush|doll|puzzle|toy car|kids figure|educational toy|puppet|dinosaur|wooden toy|"
        "costume|race track|toy train|building blocks|play kitchen|rc car|unicorn",
        "Barbie|Playmobil|Lego|Vtech|Hasbro|Mattel|Smoby|Janod",
    ),
    1281: _w(
        "jeu de société|jeu de cartes|jeu de plateau|dés|pions|plateau|jeu de stratégie|"
        "jeu d'ambiance|jeu de réflexion|échecs|dames|domino|quiz|jeu familial|tarot|"
        "cartes à jouer|escape game|extension du jeu",
        "board game|card game|dice|tokens|game board|strategy game|party game|puzzle game|"
        "chess|checkers|dominoes|trivia|family game|playing cards",
        "Asmodee|Ravensburger|Gigamic|Hasbro|Iello|Days of Wonder|Dujardin",
    ),
    1300: _w(
        "drone|maquette|modélisme|quadcopter|hélicoptère rc|avion rc|échelle 1/10|hélice|"
        "servo|gyro|fpv|train miniature|kit de montage|bateau rc|moteur brushless|lipo|"
        "télécommande|échelle ho|voiture rc",
        "drone|scale model|model kit|quadcopter|rc helicopter|rc plane|1/10 scale|propeller|"
        "servo|gyro|fpv|model railway|assembly kit|rc boat|brushless motor|lipo|transmitter",
        "DJI|Tamiya|Revell|Traxxas|Syma|Heller|Airfix|Märklin",
    ),
    1302: _w(
        "trampoline|balançoire|toboggan|piscine gonflable|jeu d'extérieur|trottinette|"
        "ballon|pistolet à eau|cerf-volant|slime|squishy|bac à sable|portique|tente enfant|"
        "vélo enfant|anti-stress|pâte à modeler|bulles",
        "trampoline|swing|slide|paddling pool|outdoor toy|scooter|ball|water gun|kite|slime|"
        "squishy|sandpit|play tent|kids bike|stress relief|bubbles",
        "Berg|Smoby|Intex|Oxelo|Decathlon|Nerf",
    ),
    1320: _w(
        "poussette|siège auto|biberon|lit bébé|tapis d'éveil|chaise haute|porte-bébé|"
        "babyphone|matelas à langer|parc bébé|rehausseur|tétine|gigoteuse|coffre à jouets|"
        "transat|baignoire bébé|veilleuse|mobile",
        "stroller|car seat|baby bottle|crib|play mat|high chair|baby carrier|baby monitor|"
        "changing mat|playpen|booster seat|pacifier|sleeping bag|bouncer|baby bath",
        "Chicco|Bébé Confort|Babymoov|Tommee Tippee|Maxi-Cosi|Graco|Philips Avent",
    ),
    1301: _w(
        "chaussettes bébé|body|grenouillère|babyfoot|baby-foot|balles de babyfoot|bavoir|"
        "pyjama bébé|bonnet|barboteuse|flipper|fléchettes|jeu de café|billard|chaussons",
        "baby socks|bodysuit|romper|foosball|table football|foosball balls|bib|baby pajamas|"
        "beanie|pinball|darts|pub game|billiards|booties",
        "Bonzini|Petit Bateau|Absorba|Auucne|Sulpie",
    ),
    1140: _w(
        "figurine|statuette|funko pop|figurine articulée|buste|goodies|vinyl|collector|"
        "figurine résine|diorama|mug|porte-clés|magnet|sabre laser|lampe|poster|"
        "figurine transformable|bobble head",
        "figure|statue|funko pop|action figure|bust|merchandise|vinyl figure|collectible|"
        "resin figure|diorama|keychain|lightsaber|nendoroid",
        "Funko|Bandai|Hasbro|Tsume|Banpresto|Good Smile|Neca|Star Wars",
    ),
    1160: _w(
        "carte|carte pokémon|carte magic|yu-gi-oh|booster|rare|holo|commune|peu commune|"
        "vf|panini|adrenalyn|vignette|deck|dragon ball super|mint|foil|carte à collectionner",
        "card|pokemon card|magic card|yugioh|booster pack|rare|holo|common|uncommon|trading "
        "card|sticker|deck|foil|near mint|trading card game",
        "Pokémon|Magic|Konami|Panini|Upper Deck|Topps|Wizards",
    ),
    1180: _w(
        "figurine à peindre|warhammer|plomb|socle|miniatures|jeu de rôle|écran du mj|"
        "livre de règles|armée|escouade|figurine métal|jdr|wargame|donjons et dragons|"
        "scénario|campagne|décor",
        "miniature|warhammer|metal figure|base|miniatures|roleplaying game|gm screen|rulebook|"
        "army|squad|tabletop|wargame|dungeons and dragons|campaign|terrain",
        "Games Workshop|Citadel|Wizards|Reaper|Mantic|Edge",
    ),
    1560: _w(
        "canapé|fauteuil|chaise|table basse|matelas|commode|armoire|buffet|étagère|lit|"
        "bureau|tabouret|console|meuble tv|chevet|sommier|table à manger|pouf|bibliothèque|"
        "tête de lit|dressing",
        "sofa|armchair|chair|coffee table|mattress|chest of drawers|wardrobe|sideboard|shelf|"
        "bed|desk|stool|tv stand|bedside table|dining table|ottoman|bookcase|headboard",
        "Ikea|Conforama|Vente-Unique|Alinéa|Maisons du Monde|Dreamland",
    ),
    2582: _w(
        "salon de jardin|chaise de jardin|parasol|transat|bain de soleil|tonnelle|hamac|"
        "table de jardin|tente pliante|barnum|pergola|jardinière|banc de jardin|coussin "
        "extérieur|balancelle|abri|voile d'ombrage|lampe solaire",
        "garden furniture|garden chair|parasol|sun lounger|gazebo|hammock|garden table|"
        "folding tent|pergola|planter|garden bench|outdoor cushion|swing seat|shade sail|"
        "solar light",
        "Hespéride|Oogarden|Keter|Lafuma|Jardiline",
    ),
    1920: _w(
        "coussin|housse de coussin|rideau|voilage|drap|housse de couette|taie d'oreiller|"
        "plaid|nappe|serviette|linge de lit|parure|drap housse|couverture|tapis|torchon|"
        "peignoir|store",
        "cushion|cushion cover|curtain|sheer|sheet|duvet cover|pillowcase|throw|tablecloth|"
        "towel|bedding|fitted sheet|blanket|rug|tea towel|bathrobe",
        "Linnea|Tradilinge|Essix|Blanc des Vosges|Madura",
    ),
    2060: _w(
        "décoration|lampe|luminaire|sticker mural|cadre|miroir|vase|bougie|horloge|"
        "guirlande|suspension|applique|spot led|décoration de noël|tableau|photophore|"
        "plante artificielle|boîte déco|lanterne",
        "decoration|lamp|lighting|wall sticker|frame|mirror|vase|candle|clock|string lights|"
        "pendant light|wall light|led spot|christmas decoration|wall art|artificial plant",
        "Atmosphera|Philips|Osram|Maisons du Monde|Home Deco",
    ),
    1940: _w(
        "café|thé|chocolat|bonbon|biscuits|confiture|épices|capsules|dosettes|miel|bio|"
        "sans gluten|tisane|chewing-gum|infusion|sucre|céréales|sachet|t-discs",
        "coffee|tea|chocolate|candy|cookies|jam|spices|capsules|pods|honey|organic|gluten "
        "free|herbal tea|chewing gum|sugar|cereal",
        "Tassimo|Nespresso|Lipton|Haribo|Lavazza|Lindt|Kusmi",
    ),
    2583: _w(
        "piscine|filtre|pompe|chlore|spa|robot piscine|bâche|liner|skimmer|ph|analyseur|"
        "galets de chlore|brome|filtration|échelle piscine|pompe à chaleur|bouée|floculant|"
        "électrolyseur|sable filtrant|épuisette|traitement de l'eau",
        "pool|filter|pump|chlorine|hot tub|pool robot|pool cover|liner|skimmer|ph|tester|"
        "chlorine tablets|bromine|filtration|pool ladder|heat pump|pool float|flocculant",
        "Intex|Bestway|Hayward|Zodiac|Gre|Speck|Dolphin|Astral",
    ),
    2585: _w(
        "outil|perceuse|tondeuse|taille-haies|tuyau|arrosage|sécateur|pince|tournevis|"
        "scie|aspirateur|nettoyeur haute pression|souffleur|débroussailleuse|visseuse|"
        "établi|clé à molette|brouette|pot de fleur|pulvérisateur",
        "tool|drill|lawn mower|hedge trimmer|hose|watering|pruner|pliers|screwdriver|saw|"
        "vacuum cleaner|pressure washer|leaf blower|strimmer|wheelbarrow|sprayer",
        "Bosch|Makita|Black+Decker|Gardena|Kärcher|Stanley|Ryobi|Einhell",
    ),
    2220: _w(
        "chien|chat|collier|laisse|croquettes|litière|niche|panier pour chien|griffoir|"
        "gamelle|harnais|aquarium|cage|arbre à chat|friandises|jouet pour chien|distributeur "
        "de nourriture|manteau pour chien",
        "dog|cat|collar|leash|dry food|cat litter|kennel|dog bed|scratching post|bowl|"
        "harness|aquarium|cage|cat tree|treats|dog toy|pet feeder",
        "Royal Canin|Purina|Trixie|Kong|Ferplast|Zolux",
    ),
    2522: _w(
        "cahier|stylo|agrafeuse|crayons de couleur|classeur|feutres|papier|agenda|carnet|"
        "enveloppes|ramette|trousse|gomme|règle|surligneur|calculatrice|étiquettes|"
        "pochettes|recharge|bloc-notes|notizbuch",
        "notebook|pen|stapler|colored pencils|binder|markers|paper|planner|envelopes|ream|"
        "pencil case|eraser|ruler|highlighter|calculator|labels|refill|notepad",
        "Bic|Faber-Castell|Clairefontaine|Oxford|Conquérant|Stabilo|Maped|Exacompta|Pilot",
    ),
}

GROUP_WORDS: dict[str, Words] = {
    "books": _w(
        "livre|livres|édition|éditions|auteur|pages|tome|volume|illustrations|histoire|"
        "collection|couverture|préface|texte|guerre|france|paris|art|siècle|vie|oeuvres|"
        "le monde|voyage|souvenirs|roi|amour|société|politique|religion|lettres|science|"
        "marche|dossier|grand|petit|nouvelle|enfants|ans|jeunesse|mort|temps",
        "book|books|edition|author|pages|volume|illustrated|history|collection|cover|text|"
        "war|art|life|works|world|travel|love|society|politics|letters|science|new|children|"
        "death|time|king",
    ),
    "toys": _w(
        "enfant|enfants|jeu|jouet|jouets|cadeau|garçon|fille|ans|3 ans|jeux|couleur|"
        "plastique|mini|rc|modèle|voiture|kit|éducatif|fun|amusant|anniversaire|noël|"
        "stress|figurine|pièces|assemblage|télécommandé|batterie|intérieur|extérieur",
        "kids|children|game|toy|toys|gift|boy|girl|years|games|colour|plastic|mini|rc|model|"
        "car|kit|educational|fun|birthday|christmas|pieces|remote control|indoor|outdoor",
    ),
    "gaming": _w(
        "jeu|jeux|console|nintendo|playstation|ps4|ps3|ps2|xbox|xbox 360|xbox one|wii|wii u|"
        "switch|ds|3ds|game boy|psp|sony|sega|manette|jeu vidéo|joueur|gamer|multijoueur|"
        "rétro|édition|version|mario|zelda|fifa|pokemon|call of duty|import|complet",
        "game|games|console|nintendo|playstation|ps4|xbox|wii|switch|ds|game boy|psp|sony|"
        "controller|video game|player|gamer|multiplayer|retro|edition|version|mario|zelda",
    ),
    "furniture": _w(
        "bois|métal|design|moderne|scandinave|blanc|noir|chêne|pin|rotin|résine|"
        "aluminium|acier|dimensions|hauteur|largeur|profondeur|cm|places|pieds|assise|"
        "dossier|rangement|tiroirs|meuble|table|chaise|confort|lot de 2|lot de 4|"
        "montage|résistant|intérieur|extérieur|style industriel",
        "wood|metal|design|modern|scandinavian|oak|pine|rattan|resin|aluminium|steel|"
        "dimensions|height|width|depth|seat|backrest|storage|drawers|furniture|table|chair|"
        "set of 2|assembly|sturdy|industrial style",
    ),
    "baby": _w(
        "bébé|bébés|naissance|mois|0-6 mois|enfant|coton|doux|sécurité|confort|fille|garçon|"
        "unisexe|taille|mixte|cadeau de naissance|puériculture|nourrisson|jeu|maison",
        "baby|babies|newborn|months|0-6 months|infant|cotton|soft|safety|comfort|girl|boy|"
        "unisex|size|baby shower gift|toddler|game|home",
    ),
    "collectibles": _w(
        "collection|collector|série|officiel|licence|star wars|marvel|dragon ball|one piece|"
        "naruto|disney|harry potter|le seigneur des anneaux|manga|édition limitée|rare|"
        "neuf|figurine|cartes|personnage|univers|saga|héros",
        "collection|collector|series|official|licensed|star wars|marvel|dragon ball|anime|"
        "disney|lord of the rings|limited edition|rare|new|character|hero",
    ),
    "home": _w(
        "maison|décoration|décor|salon|chambre|cuisine|salle de bain|intérieur|cadeau|"
        "noël|coton|polyester|lin|motif|imprimé|uni|lot|pack|home|cm|x|taille|style|"
        "moderne|vintage|fait main|naturel|qualité",
        "home|decor|living room|bedroom|kitchen|bathroom|indoor|gift|christmas|cotton|"
        "polyester|linen|pattern|printed|plain|pack|size|style|modern|vintage|handmade|natural",
    ),
    "garden": _w(
        "jardin|extérieur|eau|piscine|entretien|kit|tuyau|raccord|débit|m3/h|litres|"
        "puissance|w|v|batterie|sans fil|électrique|professionnel|remplacement|pièce|"
        "compatible|hors sol|enterrée|outil|arrosage",
        "garden|outdoor|water|pool|maintenance|kit|hose|connector|flow|litres|power|cordless|"
        "electric|professional|replacement|part|compatible|above ground|tool",
    ),
    "pets": _w(
        "animal|animaux|chien|chat|chiot|chaton|petit chien|grand chien|oiseau|rongeur|"
        "poisson|nylon|réglable|confortable|lavable",
        "pet|pets|dog|cat|puppy|kitten|small dog|large dog|bird|rodent|fish|nylon|adjustable",
    ),
    "stationery": _w(
        "bureau|école|scolaire|fournitures|a4|a5|format|feuilles|pages|couleurs|lot|"
        "assortis|encre|noir|bleu|coloris|papier|carton|recyclé|grammes",
        "office|school|supplies|a4|a5|sheets|pages|colours|assorted|ink|black|blue|paper|"
        "cardboard|recycled",
    ),
}

# Words any product can carry, whatever its class.
GENERIC = _w(
    "neuf|nouveau|lot de 2|lot de 3|qualité|original|pas cher|promo|haute qualité|"
    "grand|petit|mini|noir|blanc|rouge|bleu|vert|jaune|rose|gris|argent|or|marron|"
    "multicolore|plastique|métal|bois|coton|cuir|verre|taille unique|cadeau|pratique|"
    "facile|léger|robuste|durable|portable|pliable|étanche|réglable|universel|"
    "accessoire|set|kit|pack|modèle|édition|couleur|style|design|livraison gratuite",
    "new|brand new|set of 2|quality|original|cheap|high quality|large|small|mini|black|"
    "white|red|blue|green|yellow|pink|grey|silver|gold|brown|multicolor|plastic|metal|"
    "wood|cotton|leather|glass|one size|gift|practical|easy|lightweight|sturdy|durable|"
    "portable|foldable|waterproof|adjustable|universal|accessory|kit|pack|model|style",
    "Générique|Auucne|Cocoworld|Sanwood|Unbranded|Homemaison|Kesoto|Yosoo|Ociodual|Oem",
)

FUNCTION_WORDS: dict[str, tuple[str, ...]] = {
    "fr": ("de", "pour", "avec", "et", "en", "la", "le", "les", "des", "du", "à", "un", "une",
           "sur", "par", "au", "sans", "dans", "d'un", "l'", "est", "son", "ses", "votre",
           "vous", "qui", "ce", "très", "plus", "tout", "il", "elle", "a", "ou", "aux"),
    "en": ("the", "for", "with", "and", "of", "a", "in", "to", "on", "by", "from", "is",
           "this", "your", "you", "it", "are", "that", "or", "all", "very", "more", "as"),
    "de": ("der", "die", "das", "und", "mit", "für", "von", "auf", "ein", "eine", "zum",
           "im", "aus", "neu", "Buch", "Spiel", "Seiten", "Kinder", "Geschichte", "Band",
           "Ausgabe", "groß", "klein", "schwarz", "Leben", "Welt", "Zeit", "über", "Reise"),
    "it": ("il", "la", "di", "e", "con", "per", "del", "della", "un", "una", "nuovo",
           "libro", "gioco", "pagine", "bambini", "storia", "volume", "grande", "nero",
           "vita", "mondo", "tempo", "viaggio", "edizione"),
    "es": ("el", "la", "de", "y", "con", "para", "del", "un", "una", "los", "las", "nuevo",
           "libro", "juego", "páginas", "niños", "historia", "tomo", "grande", "negro",
           "vida", "mundo", "tiempo", "viaje", "edición"),
}

# Phrases that start a line of a product description, in French and English.
DESCRIPTION_OPENERS: dict[str, tuple[str, ...]] = {
    "fr": ("Caractéristiques :", "Description :", "Matière :", "Couleur :", "Dimensions :",
           "Contenu du colis :", "Remarque :", "Le paquet comprend :", "Idéal pour",
           "Spécifications :", "Garantie :", "Livré avec", "Compatible avec", "Poids :"),
    "en": ("Features:", "Description:", "Material:", "Colour:", "Dimensions:",
           "Package includes:", "Note:", "Specifications:", "Ideal for", "Warranty:",
           "Compatible with", "Weight:"),
}
DESCRIPTION_OPENERS["de"] = DESCRIPTION_OPENERS["en"]
DESCRIPTION_OPENERS["it"] = DESCRIPTION_OPENERS["en"]
DESCRIPTION_OPENERS["es"] = DESCRIPTION_OPENERS["en"]


def zipf_weights(n: int, exponent: float = 1.0) -> np.ndarray:
    """Normalised weights ``1 / rank**exponent`` for ``n`` ranked words."""
    weights = 1.0 / np.arange(1, n + 1, dtype=float) ** exponent
    return weights / weights.sum()
