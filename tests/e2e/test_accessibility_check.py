"""The journeys' accessibility check finds what it looks for (on pages of our own,
so that a check that always passes cannot hide behind pages that are fine)."""

import pytest

from tests.e2e.people import check_accessibility

pytestmark = pytest.mark.e2e

FINE = """
<h1>Fine</h1>
<label for="a">A</label><input id="a" name="a">
<label>B <select name="b"><option>x</option></select></label>
<input name="c" aria-label="C"><span id="d-name">D</span><textarea name="d" aria-labelledby="d-name"></textarea>
<input type="hidden" name="e"><input type="submit" value="Go"><input name="f" style="display: none">
<img src="data:," alt="">
<svg role="img" aria-label="A chart"><svg><rect/></svg></svg>
<svg role="img"><title>Another chart</title></svg>
"""

BROKEN = """
<h1>One</h1><h1>Two</h1>
<label for="elsewhere">A</label><input id="a" name="a">
<select name="b"><option>x</option></select>
<textarea name="c" aria-labelledby="nothing"></textarea>
<img src="data:,">
<svg><rect/></svg>
<svg role="img"></svg>
"""


@pytest.fixture
def page(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_a_page_with_the_basics_passes(page) -> None:
    page.set_content(FINE)
    check_accessibility(page)


def test_each_missing_basic_is_named(page) -> None:
    page.set_content(BROKEN)
    with pytest.raises(AssertionError) as failure:
        check_accessibility(page)
    message = str(failure.value)
    assert "2 h1 headings (One | Two), not one" in message
    for name in ("a", "b", "c"):
        assert f'named "{name}" has no label' in message
    assert "an image (data:,) has no alt text" in message
    assert message.count('is not role="img" with a name') == 2
