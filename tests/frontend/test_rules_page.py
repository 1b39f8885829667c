"""The rules page lists every rule a page at a time, filtered; the dashboard shows only the
few the model trusts least, with the total and a link to the rest."""

from __future__ import annotations

import re

from teaching.models import Rule, Status

S = "/spaces/serve"


def _many_rules(space, author, n: int) -> None:
    Rule.objects.bulk_create(
        [
            Rule(
                space=space,
                author=author,
                condition=f"toss_height_cm > {i}",
                label="toss in front" if i % 2 else "no cue",
                status=Status.ACTIVE,
            )
            for i in range(n)
        ]
    )


def _table_rows(html: str) -> int:
    return len(re.findall(r"<tr>", html)) - 1  # the header row


def test_the_rules_page_shows_fifty_at_a_time_of_all_with_their_total(client_as, taught, space):
    _many_rules(space, taught["rule"].author, 120)  # and the 3 taught
    client = client_as("teacher")
    first = client.get(f"{S}/rules/")
    html = first.content.decode()
    assert first.status_code == 200
    assert "123 rules" in html
    assert _table_rows(html) == 50
    assert "Page 1 of 3" in html
    last = client.get(f"{S}/rules/?page=3").content.decode()
    assert _table_rows(last) == 23


def test_the_rules_page_filters_by_label_author_status_and_dispute(client_as, taught, space):
    client = client_as("teacher")
    assert client.get(f"{S}/rules/?status=proposed").context["paged"].paginator.count == 1
    by_novice = client.get(f"{S}/rules/?author=novice").context["rules"]
    assert [row["rule"].pk for row in by_novice] == [taught["proposed"].pk]
    no_cue = client.get(f"{S}/rules/?label=no+cue").context["rules"]
    assert {row["rule"].label for row in no_cue} == {"no cue"}
    disputed = client.get(f"{S}/rules/?disputed=true").context["rules"]
    assert taught["rule"].pk in {row["rule"].pk for row in disputed}
    # Coverage is counted for the rules shown: the teacher's rule covers its example.
    row = next(r for r in disputed if r["rule"].pk == taught["rule"].pk)
    assert (row["covered"], row["agreeing"]) == (1, 1)


def test_the_dashboard_shows_ten_rules_and_links_to_all(client_as, taught, space):
    _many_rules(space, taught["rule"].author, 40)
    html = client_as("teacher").get(f"{S}/").content.decode()
    assert "10 of 43 live rules" in html
    assert f'href="{S}/rules/"' in html
    table = html[html.index('aria-label="Rules table"') :]
    assert _table_rows(table[: table.index("</table>")]) == 10


def test_a_long_vocabulary_of_concepts_starts_folded(client_as, taught, space):
    from teaching.models import Concept

    html = client_as("teacher").get(f"{S}/teach/").content.decode()
    assert "<details open>\n    <summary>Concepts</summary>" in html  # one concept: open
    Concept.objects.bulk_create(
        [
            Concept(space=space, author=taught["rule"].author, name=f"c{i}", definition="fatigued")
            for i in range(25)
        ]
    )
    html = client_as("teacher").get(f"{S}/teach/").content.decode()
    assert "<details>\n    <summary>Concepts (26)</summary>" in html
