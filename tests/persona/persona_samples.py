"""Sample texts (two authors, a generic text) and writers for every supported format."""

from __future__ import annotations

from pathlib import Path

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

# The user ("author A"): a sea-and-garden memoirist with recurring turns of phrase ("I remember",
# "the grey water", "and yet", "my father used to say") and long sentences joined by semicolons.
AUTHOR_A = [
    "I remember the first winter on the trawler; the grey water slid under the hull all night, and yet "
    "nobody slept below, because my father used to say that a sleeping crew is a drowned crew.",
    "I remember how the nets came up heavy with cod off Lofoten; the grey water ran from the mesh like "
    "poured lead, and yet the men laughed, because the catch meant a warm spring for every family ashore.",
    "My father used to say that the sea is patient and men are not; I remember him standing at the "
    "wheel for eleven hours while the grey water broke over the bow, and yet his hands never shook.",
    "The harbour at dawn smelled of diesel, tar and salt; I remember the gulls screaming over the grey "
    "water, and yet the boats lay so still that the whole fleet seemed painted on the fjord.",
    "We lost the mast in the November gale; I remember the sound it made, a crack like a rifle shot, and "
    "yet my father only said that wood breaks so that men need not, and went on bailing.",
    "I remember the lighthouse keeper at Skomvær, who rowed out to us with coffee in a tin can; the grey "
    "water slapped his little boat, and yet he climbed aboard as if he were stepping onto a pavement.",
    "My father used to say that a storm announces itself to anyone who listens; I remember the swell "
    "lengthening under the grey water long before the sky changed, and yet the forecast promised calm.",
    "The ice on the rigging had to be knocked off with mallets every hour; I remember my fingers "
    "splitting in the cold, and yet I would not go below while the others worked above the grey water.",
    "I remember my mother's garden behind the boathouse; the cabbages grew fat in the short summer, and "
    "yet she always said that the soil up north gives only what the sea allows it to keep.",
    "In the garden the rhubarb came first, then the potatoes; I remember kneeling in the black earth "
    "beside my mother, and yet my eyes kept turning to the grey water beyond the fence.",
    "Я помню серую воду у причала и отца, который стоял у штурвала всю ночь; и всё же он никогда не "
    "жаловался, потому что, как говорил отец, море не любит тех, кто жалуется.",
    "Я помню, как сети поднимались тяжёлыми от трески; серая вода стекала с них, как свинец, и всё же "
    "мужчины смеялись, потому что улов означал тёплую весну для каждой семьи на берегу.",
]

# Unseen writing by the same author, on the same subject, with the same habits.
AUTHOR_A_UNSEEN = (
    "I remember the morning we left Tromsø; the grey water lay flat as slate, and yet my father stood at "
    "the bow as if he expected a storm, because he used to say that the sea keeps its promises only to "
    "those who never ask it for any."
)

# Somebody else entirely: product copy about software.
UNRELATED = (
    "Our cloud platform streamlines onboarding for enterprise teams. Configure single sign-on, assign "
    "roles, and monitor usage from a unified dashboard with real-time analytics and automated reports."
)

# Generic, cliché-laden prose that could have come from anybody.
GENERIC = (
    "In today's fast-paced world, it is important to note that communication plays a crucial role in "
    "every organization. At the end of the day, teams that harness the power of collaboration unlock "
    "their potential and take it to the next level."
)



def write_docx(path: Path, paragraphs: list[str], heading: str | None = None) -> None:
    import docx

    document = docx.Document()
    if heading:
        document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))


def write_pdf(path: Path, paragraphs: list[str]) -> bool:
    """Write a PDF with fpdf2; Russian needs a Unicode font, so without DejaVu only ASCII paragraphs go in.

    Returns True when the Unicode font was used.
    """
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    unicode_font = DEJAVU.is_file()
    if unicode_font:
        pdf.add_font("DejaVu", fname=str(DEJAVU))
        pdf.set_font("DejaVu", size=11)
    else:
        pdf.set_font("Helvetica", size=11)
        paragraphs = [p for p in paragraphs if p.isascii()]
    for text in paragraphs:
        pdf.multi_cell(0, 6, text)
        pdf.ln(6)
    pdf.output(str(path))
    return unicode_font


def rtf_escape(text: str) -> str:
    """Plain text as RTF: control characters escaped, non-ASCII as \\uN? escapes."""
    out = []
    for ch in text:
        if ch in "\\{}":
            out.append("\\" + ch)
        elif ord(ch) > 127:
            code = ord(ch)
            out.append(f"\\u{code if code < 32768 else code - 65536}?")
        else:
            out.append(ch)
    return "".join(out)


def write_rtf(path: Path, paragraphs: list[str]) -> None:
    body = "".join(f"\\pard {rtf_escape(text)}\\par\n" for text in paragraphs)
    path.write_text("{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Times New Roman;}}\n\\f0\\fs24\n" + body + "}\n", encoding="ascii")


def write_sample_folder(folder: Path) -> dict[str, list[str]]:
    """One file of each format (Russian in every one that can carry it); returns the paragraphs per file."""
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[str, list[str]] = {}

    expected["notes.txt"] = [AUTHOR_A[0], AUTHOR_A[10]]
    cut = AUTHOR_A[0].index(" ", 50)  # hard-wrapped: the two lines are one paragraph
    (folder / "notes.txt").write_text(
        f"{AUTHOR_A[0][:cut]}\n{AUTHOR_A[0][cut + 1:]}\n\nToo short.\n\n{AUTHOR_A[10]}\n", encoding="utf-8"
    )

    expected["journal.md"] = [AUTHOR_A[1], "Salt, tar and diesel in the morning air. Gulls over the harbour, loud as ever.", AUTHOR_A[11]]
    (folder / "journal.md").write_text(
        "# Journal\n\n"
        f"{AUTHOR_A[1]}\n\n"
        "## Smells\n\n"
        "- Salt, tar and *diesel* in the morning air.\n"
        "- Gulls over the [harbour](https://example.org), loud as ever.\n\n"
        "```\nprint('code is not prose and is never indexed')\n```\n\n"
        f"{AUTHOR_A[11]}\n",
        encoding="utf-8",
    )

    expected["letters.docx"] = [AUTHOR_A[2], AUTHOR_A[11]]
    write_docx(folder / "letters.docx", [AUTHOR_A[2], "Short.", AUTHOR_A[11]], heading="Letters home")

    pdf_paragraphs = [AUTHOR_A[3], AUTHOR_A[10]]
    if not write_pdf(folder / "log.pdf", pdf_paragraphs):
        pdf_paragraphs = [AUTHOR_A[3]]
    expected["log.pdf"] = pdf_paragraphs

    expected["story.rtf"] = [AUTHOR_A[4], AUTHOR_A[10]]
    write_rtf(folder / "story.rtf", [AUTHOR_A[4], AUTHOR_A[10]])
    return expected

# The same user on another subject (the garden), with the same habits: a corpus with two topics.
AUTHOR_A_GARDEN = [
    "I remember my mother pruning the apple trees in March; the branches were black with frost, and yet "
    "she said that a tree cut back hard in spring gives twice the fruit by September.",
    "My mother used to say that potatoes must be planted when the birch leaves are the size of a mouse's "
    "ear; I remember measuring the leaves with my thumb, and yet she never once checked my work.",
    "The strawberry beds needed straw against the slugs; I remember carrying bales from the barn in the "
    "rain, and yet the berries that summer were the sweetest we ever picked behind the house.",
    "I remember the compost heap steaming on cold mornings; my mother turned it with a fork every Sunday, "
    "and yet she called it the laziest work in the garden, because the worms did the rest.",
    "Я помню мамины грядки с укропом и огурцами; земля была тяжёлой и холодной, и всё же каждое лето "
    "она собирала столько, что хватало на всю зиму и ещё соседям.",
]
