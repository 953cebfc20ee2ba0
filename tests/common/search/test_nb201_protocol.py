"""How a record summarises the cells its runs found."""

from common.search.nb201_protocol import found_summary


def test_found_summary_keeps_run_order_and_counts():
    runs = ["|b|", "|a|", "|b|", "|c|"]
    assert found_summary(runs) == {
        "found_archs": ["|b|", "|a|", "|b|", "|c|"],
        "distinct_found_archs": 3,
        "most_found_arch": "|b|",
    }


def test_found_summary_breaks_ties_by_sorted_order():
    assert found_summary(["|c|", "|a|"])["most_found_arch"] == "|a|"
