"""
How a benchmark puts its section into C{bench/RESULTS.md}
(L{bench.report.put_section}).
"""

from pathlib import Path

from bench.report import put_section

RESULTS = (
    "# Results\n\n## A\n\nold a\n\n## B\n\nb\n\n## Notes on these results\n\nnotes\n"
)


def test_a_section_takes_the_place_of_the_one_with_its_heading(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text(RESULTS)
    put_section(path, "## A", "## A\n\nnew a\n")
    assert path.read_text() == RESULTS.replace("old a", "new a")


def test_a_new_section_goes_before_the_notes(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text(RESULTS)
    put_section(path, "## C", "## C\n\nc")
    assert path.read_text() == RESULTS.replace(
        "## Notes on these results", "## C\n\nc\n\n## Notes on these results"
    )


def test_a_section_ends_a_file_without_notes(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    put_section(path, "## C", "## C\n\nc")
    assert path.read_text() == "## C\n\nc\n"
