"""The fact bank the generated sets hide in real text: templated facts with short, checkable answers.

    fact = SINGLE_FACTS[0]
    fact.fact.format(slot="harbour", value=415)          # the sentence inserted into the haystack
    fact.question.format(slot="harbour")                   # shares most words with the fact
    fact.paraphrase.format(slot="beside the docks")        # shares (almost) none of them

``SingleFact`` has named slots (the near-miss distractors use the other slots of the same template)
and, for each slot, a paraphrase with no content word in common with the fact. ``GroupFact``
describes K facts about one subject that a count / list question, or a ``CompareFact`` whose
superlative question, must combine. Values are drawn per example; answers are a number, a name, a
colour, a word or a short list.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

FORMAT_HINTS = {
    "number": "Answer with a number.",
    "name": "Answer with a name.",
    "colour": "Answer with a colour.",
    "word": "Answer with one word.",
    "list": "Answer with a comma-separated list.",
}

NAMES = (
    "Biscuit",
    "Pepper",
    "Juniper",
    "Marlow",
    "Clementine",
    "Rufus",
    "Tansy",
    "Obadiah",
    "Wren",
    "Figaro",
    "Hazel",
    "Barnaby",
    "Saffron",
    "Ptolemy",
    "Nutmeg",
    "Ignatius",
    "Bramble",
    "Cosima",
    "Fennel",
    "Leopold",
    "Mirabel",
    "Quincy",
    "Sorrel",
    "Tobias",
    "Umberto",
    "Valentina",
    "Wilhelmina",
    "Xanthe",
    "Yardley",
    "Zephyr",
)
COLOURS = (
    "crimson",
    "turquoise",
    "mustard yellow",
    "olive green",
    "lavender",
    "coral",
    "navy blue",
    "silver",
    "burnt orange",
    "magenta",
    "teal",
    "ivory",
)
CODEWORDS = (
    "marigold",
    "thunderclap",
    "copperfield",
    "nightingale",
    "quicksilver",
    "lanternfish",
    "bluebell",
    "stormcrow",
    "peppermint",
    "wolfsbane",
    "moonstone",
    "driftwood",
    "sunflower",
    "tinderbox",
)
CITIES = (
    "Lisbon",
    "Oslo",
    "Nairobi",
    "Quito",
    "Tbilisi",
    "Hanoi",
    "Dakar",
    "Tallinn",
    "Montevideo",
    "Bergen",
    "Cusco",
    "Valletta",
    "Windhoek",
    "Tromso",
    "Zagreb",
    "Asmara",
)
AGENTS = ("Okafor", "Lindqvist", "Moreau", "Tanaka", "Brannigan", "Sokolova", "Achterberg", "Castellanos")
FRUITS = ("apricot", "fig", "quince", "plum", "cherry", "mango", "lychee", "pomegranate", "kiwi", "melon")
TOWNS = (
    "Ashbury",
    "Brackenfield",
    "Coldharbour",
    "Dunmore",
    "Eastwick",
    "Fernhill",
    "Glenrock",
    "Hollowell",
    "Ivybridge",
    "Kettlewell",
)


@dataclass(frozen=True)
class ValueSpec:
    """Where a fact's value comes from: an integer range or a word list, and its answer format."""

    kind: str  # number | name | colour | word
    low: int = 0
    high: int = 0
    words: tuple[str, ...] = ()

    def draw(self, rng: random.Random, exclude: set[str] = frozenset()) -> str:
        pool = [w for w in self.words if w not in exclude]
        while True:
            value = str(rng.randint(self.low, self.high)) if not self.words else rng.choice(pool)
            if value not in exclude:
                return value


@dataclass(frozen=True)
class SingleFact:
    """One fact with a slot; ``question`` reuses its words, ``paraphrase`` avoids them."""

    key: str
    fact: str  # "... {slot} ... {value} ..."
    question: str  # "... {slot} ...?"
    paraphrase: str  # "... {slot} ...?" filled with the slot's paraphrase
    slots: tuple[tuple[str, str], ...]  # (slot words, paraphrase of the slot)
    value: ValueSpec


@dataclass(frozen=True)
class GroupFact:
    """K facts ``fact.format(agent=, item=)`` about one agent; count and list questions over them."""

    key: str
    fact: str
    count_question: str
    list_question: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class CompareFact:
    """K facts ``fact.format(item=, value=)``; the answer is the item with the largest (or smallest) value."""

    key: str
    fact: str
    question: str
    items: tuple[str, ...]
    value: ValueSpec
    largest: bool = True


SINGLE_FACTS: tuple[SingleFact, ...] = (
    SingleFact(
        "parking",
        "The overnight parking fee at the {slot} garage is {value} dollars.",
        "What is the overnight parking fee at the {slot} garage?",
        "How much must drivers pay to leave a car {slot} until morning?",
        (
            ("harbour", "beside the docks"),
            ("airport", "near the runways"),
            ("stadium", "next to the sports arena"),
            ("hospital", "by the medical centre"),
        ),
        ValueSpec("number", 120, 980),
    ),
    SingleFact(
        "ferry",
        "The {slot} ferry departs from pier {value} every Sunday.",
        "From which pier does the {slot} ferry depart every Sunday?",
        "Where, by number, do travellers board the boat {slot} at weekends?",
        (
            ("island", "to the isle"),
            ("northern", "heading up the coast"),
            ("night", "that sails after dark"),
            ("express", "making the quickest crossing"),
        ),
        ValueSpec("number", 11, 99),
    ),
    SingleFact(
        "orchard",
        "The {slot} planted {value} apple trees behind the farmhouse.",
        "How many apple trees did the {slot} plant behind the farmhouse?",
        "What number of fruit saplings did the {slot} put into the soil near that rural home?",
        (
            ("eldest daughter", "firstborn girl"),
            ("hired gardener", "paid groundskeeper"),
            ("retired teacher", "former schoolmistress"),
            ("village priest", "local clergyman"),
        ),
        ValueSpec("number", 13, 97),
    ),
    SingleFact(
        "password",
        "The password for the {slot} archive is {value}.",
        "What is the password for the {slot} archive?",
        "Which secret word unlocks the {slot} records?",
        (("tax", "fiscal"), ("medical", "health"), ("legal", "courtroom"), ("payroll", "salary")),
        ValueSpec("word", words=CODEWORDS),
    ),
    SingleFact(
        "cat",
        "The {slot} keeps a grey cat named {value}.",
        "What is the name of the grey cat that the {slot} keeps?",
        "What do people call the feline pet owned by the {slot}?",
        (
            ("lighthouse keeper", "man who tends the coastal beacon"),
            ("baker", "woman who makes the town's bread"),
            ("harbour master", "official in charge of the port"),
            ("night nurse", "carer on the late ward shift"),
        ),
        ValueSpec("name", words=NAMES),
    ),
    SingleFact(
        "bridge",
        "Last summer the {slot} bridge was painted {value}.",
        "What colour was the {slot} bridge painted last summer?",
        "Which hue did workers coat the {slot} span with during the warm season?",
        (("railway", "train"), ("footpath", "pedestrian"), ("canal", "waterway"), ("toll", "paid-crossing")),
        ValueSpec("colour", words=COLOURS),
    ),
    SingleFact(
        "soup",
        "The {slot} soup recipe calls for {value} cloves of garlic.",
        "How many cloves of garlic does the {slot} soup recipe call for?",
        "What quantity of pungent bulb segments goes into the {slot} broth?",
        (
            ("harvest festival", "autumn celebration"),
            ("wedding", "marriage feast"),
            ("winter market", "cold-season fair"),
            ("midsummer", "longest-day"),
        ),
        ValueSpec("number", 11, 49),
    ),
    SingleFact(
        "well",
        "The well in the {slot} village is {value} metres deep.",
        "How deep is the well in the {slot} village?",
        "How far down does the water shaft of that {slot} hamlet go?",
        (("northern", "upland"), ("coastal", "seaside"), ("abandoned", "deserted"), ("mountain", "alpine")),
        ValueSpec("number", 21, 95),
    ),
    SingleFact(
        "ticket",
        "A ticket for the {slot} train costs {value} euros.",
        "How much does a ticket for the {slot} train cost?",
        "What fare must a passenger pay to ride the {slot} rail service?",
        (("night", "after-dark"), ("coastal", "seaside"), ("mountain", "alpine"), ("express", "fastest")),
        ValueSpec("number", 31, 299),
    ),
    SingleFact(
        "club",
        "The {slot} club meets in room {value} of the old school.",
        "In which room of the old school does the {slot} club meet?",
        "Where, by number, do members of the {slot} society gather in that former academy?",
        (
            ("chess", "kings-and-queens board game"),
            ("astronomy", "star-gazing"),
            ("poetry", "verse-writing"),
            ("robotics", "machine-building"),
        ),
        ValueSpec("number", 101, 499),
    ),
    SingleFact(
        "guild",
        "The {slot} guild was founded in {value}.",
        "In what year was the {slot} guild founded?",
        "When was the {slot} association first established?",
        (
            ("clockmakers", "watch-repairers'"),
            ("weavers", "cloth-makers'"),
            ("glassblowers", "vase-crafters'"),
            ("bookbinders", "volume-stitchers'"),
        ),
        ValueSpec("number", 1702, 1948),
    ),
    SingleFact(
        "mascot",
        "The {slot} team's mascot is a small brown dog called {value}.",
        "What is the small brown dog that serves as the {slot} team's mascot called?",
        "Which name was given to the puppy emblem of the {slot} squad?",
        (
            ("rowing", "oar-racing"),
            ("rugby", "scrum-loving"),
            ("cycling", "bike-racing"),
            ("hockey", "stick-and-puck"),
        ),
        ValueSpec("name", words=NAMES),
    ),
)

GROUP_FACTS: tuple[GroupFact, ...] = (
    GroupFact(
        "courier",
        "Courier {agent} delivered a sealed parcel to {item}.",
        "How many sealed parcels did Courier {agent} deliver?",
        "To which cities did Courier {agent} deliver sealed parcels?",
        CITIES,
    ),
    GroupFact(
        "birds",
        "Professor {agent} adopted a rescued parrot named {item}.",
        "How many rescued parrots did Professor {agent} adopt?",
        "What are the names of the rescued parrots that Professor {agent} adopted?",
        NAMES,
    ),
)

COMPARE_FACTS: tuple[CompareFact, ...] = (
    CompareFact(
        "stalls",
        "The {item} stall at the night market sold {value} baskets.",
        "Which stall at the night market sold the most baskets?",
        FRUITS,
        ValueSpec("number", 12, 480),
    ),
    CompareFact(
        "marathon",
        "The runner from {item} finished the marathon in {value} minutes.",
        "The runner from which town finished the marathon in the fewest minutes?",
        TOWNS,
        ValueSpec("number", 131, 299),
        largest=False,
    ),
)

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
STOPWORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "does",
        "do",
        "did",
        "what",
        "which",
        "who",
        "whom",
        "how",
        "many",
        "much",
        "where",
        "when",
        "that",
        "this",
        "those",
        "these",
        "it",
        "its",
        "their",
        "there",
        "as",
        "into",
        "up",
        "down",
        "until",
        "during",
        "each",
        "every",
        "must",
        "go",
        "goes",
    }
)


def content_words(text: str) -> set[str]:
    """Lower-cased word forms of ``text`` minus stop words (the overlap the paraphrases avoid)."""
    return {w for w in re.findall(r"[a-z]+", text.lower()) if w not in STOPWORDS}
