"""Visual styles of the synthetic classes: which shapes and colours their pictures use.

Shapes are shared by a confusable group (all books are drawn as books, all gaming items
as boxes or devices), so a picture alone rarely pins down a class. Colours come partly
from a class palette that overlaps the siblings' and partly from neutral colours every
class uses, which gives a colour-only model a weak but real signal, and one that helps
exactly where the text is ambiguous: between siblings of a group.
"""

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (200, 40, 40),
    "dark_red": (120, 25, 30),
    "orange": (235, 130, 30),
    "yellow": (240, 210, 40),
    "gold": (200, 165, 70),
    "green": (60, 160, 60),
    "dark_green": (35, 80, 45),
    "teal": (30, 160, 170),
    "cyan": (90, 200, 230),
    "blue": (40, 80, 190),
    "navy": (25, 35, 90),
    "purple": (120, 60, 160),
    "pink": (235, 120, 170),
    "light_pink": (245, 195, 210),
    "light_blue": (170, 205, 240),
    "brown": (120, 75, 40),
    "beige": (220, 200, 160),
    "black": (25, 25, 28),
    "grey": (130, 130, 135),
    "silver": (195, 195, 200),
    "white": (245, 245, 245),
}

# Shape families of each group, most typical first.
GROUP_SHAPES: dict[str, tuple[str, ...]] = {
    "books": ("book", "stack", "book"),
    "toys": ("toy", "board", "toy"),
    "gaming": ("box", "device", "pack"),
    "furniture": ("furniture", "furniture", "fabric"),
    "baby": ("toy", "fabric", "furniture"),
    "collectibles": ("toy", "cards", "box"),
    "home": ("fabric", "lamp", "round"),
    "garden": ("round", "tool", "device"),
    "pets": ("round", "toy", "fabric"),
    "stationery": ("book", "tool", "stack"),
}

# Colours any product of the group may show besides its class palette: the neutral
# colours of most product photos, plus one accent typical of the group.
NEUTRALS = ("white", "black", "grey", "silver")
GROUP_ACCENT: dict[str, str] = {
    "books": "beige",
    "toys": "red",
    "gaming": "navy",
    "furniture": "brown",
    "baby": "light_pink",
    "collectibles": "yellow",
    "home": "beige",
    "garden": "blue",
    "pets": "brown",
    "stationery": "blue",
}
GROUP_COLOURS: dict[str, tuple[str, ...]] = {group: (accent, *NEUTRALS) for group, accent in GROUP_ACCENT.items()}

# Class colours, dominant first; siblings share some of them on purpose.
CLASS_COLOURS: dict[int, tuple[str, ...]] = {
    10: ("brown", "dark_red", "beige"),
    2280: ("grey", "beige", "black"),
    2403: ("yellow", "red", "blue"),
    2705: ("white", "cyan", "orange"),
    40: ("blue", "red", "navy"),
    50: ("black", "white", "teal"),
    60: ("grey", "silver", "red"),
    2462: ("white", "black", "yellow"),
    2905: ("purple", "navy", "orange"),
    1280: ("pink", "yellow", "red"),
    1281: ("dark_green", "red", "beige"),
    1300: ("silver", "orange", "grey"),
    1302: ("green", "cyan", "yellow"),
    1320: ("light_pink", "light_blue", "grey"),
    1301: ("white", "pink", "green"),
    1140: ("red", "black", "gold"),
    1160: ("yellow", "blue", "orange"),
    1180: ("grey", "dark_green", "brown"),
    1560: ("brown", "grey", "beige"),
    2582: ("green", "white", "teal"),
    1920: ("beige", "light_blue", "white"),
    2060: ("gold", "yellow", "white"),
    1940: ("brown", "orange", "red"),
    2583: ("cyan", "blue", "white"),
    2585: ("green", "orange", "black"),
    2220: ("brown", "red", "light_blue"),
    2522: ("blue", "red", "yellow"),
}
