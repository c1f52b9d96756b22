"""The chart builder: each chart's numbers agree with DuckDB over the version's file; bad choices get a 400
naming what to change; ECharts draws the chart in Chromium without CSP errors."""

import duckdb
import pytest

from citydata.catalog.models import Dataset

pytestmark = pytest.mark.django_db


def chart_data(response) -> dict:
    return response.context["chart_json"]


def direct(version, sql: str) -> list[tuple]:
    from citydata.datastore.storage import get_storage

    path = get_storage().local_path(version.data_key)
    return duckdb.connect().execute(sql.replace("data", f"read_parquet('{path}')", 1)).fetchall()


def test_bar_chart_sums_by_category_largest_first(client, published):
    response = client.get("/datasets/bus/chart/", {"_chart": "bar", "_x": "线路", "_y": "sum:载客"})
    assert response.status_code == 200
    data = chart_data(response)
    expected = direct(published, 'SELECT "线路", sum("载客") AS s FROM data GROUP BY 1 ORDER BY s DESC NULLS LAST')
    assert list(zip(data["labels"], data["values"], strict=True)) == expected
    assert data["y_title"] == "合计（载客）" and data["x_title"] == "线路"
    page = response.content.decode()
    assert "_group_by=%E7%BA%BF%E8%B7%AF" in page and "_agg=sum%3A%E8%BD%BD%E5%AE%A2" in page  # the API call shown
    # the API call the page shows returns the same numbers
    api = client.get("/api/v1/datasets/bus/records", {"_group_by": "线路", "_agg": "sum:载客", "_sort": "-sum_载客"})
    assert [item["sum_载客"] for item in api.json()["items"]] == data["values"]


def test_line_chart_buckets_time_in_order_and_honours_filters(client, published):
    response = client.get(
        "/datasets/bus/chart/", {"_chart": "line", "_x": "时间", "_bucket": "day", "_y": "count", "线路": "2路"}
    )
    data = chart_data(response)
    expected = direct(
        published,
        "SELECT strftime(date_trunc('day', \"时间\"), '%Y-%m-%d'), count(*) FROM data WHERE \"线路\" = '2路' "
        "GROUP BY 1 ORDER BY 1",
    )
    assert list(zip(data["labels"], data["values"], strict=True)) == expected
    assert sum(data["values"]) == 10  # 50 rows, every fifth on 2路
    assert "线路 = 2路" in response.content.decode()  # the filter is shown and kept in the form


def test_pie_keeps_the_largest_slices_and_says_how_many_groups_there_are(client, published):
    response = client.get("/datasets/bus/chart/", {"_chart": "pie", "_x": "车牌", "_y": "count"})
    data = chart_data(response)
    assert len(data["values"]) == 12 and response.context["chart"].total_groups == 50
    assert "共 50 组，图上显示数值最大的 12 组" in response.content.decode()


def test_scatter_and_map_plot_the_rows_with_a_label(client, published):
    scatter = chart_data(client.get("/datasets/bus/chart/", {"_chart": "scatter", "_x": "速度", "_y": "载客"}))
    expected = direct(published, 'SELECT count(*) FROM data WHERE "速度" IS NOT NULL AND "载客" IS NOT NULL')
    assert len(scatter["points"]) == expected[0][0] and all(len(p) == 3 for p in scatter["points"])
    mapped = chart_data(client.get("/datasets/bus/chart/", {"_chart": "map"}))
    assert len(mapped["points"]) == 50
    assert {round(p[0], 4) for p in mapped["points"]} == {round(104.70 + i * 0.002, 4) for i in range(50)}


def test_first_visit_suggests_a_map_then_a_time_series_then_counts(client, published):
    from citydata.datastore import charts
    from citydata.datastore.storage import get_storage

    assert chart_data(client.get("/datasets/bus/chart/"))["kind"] == "map"  # it has coordinates
    path = str(get_storage().local_path(published.data_key))
    columns = [c for c in published.columns if c["name"] not in ("经度", "纬度")]
    assert charts.suggest(path, columns, {}) == {"_chart": "line", "_x": "时间", "_bucket": "day", "_y": "count"}
    undated = [c for c in columns if c["name"] != "时间"]
    assert charts.suggest(path, undated, {}) == {"_chart": "bar", "_x": "线路", "_y": "count"}


@pytest.mark.parametrize(
    ("params", "parameter_text"),
    [
        ({"_chart": "donut", "_x": "线路"}, "不支持的图表类型"),
        ({"_chart": "bar", "_x": "nope"}, "横轴"),
        ({"_chart": "bar", "_x": "速度"}, "小数列不能作为分组"),
        ({"_chart": "bar", "_x": "线路", "_y": "sum:线路"}, "数值请选择"),
        ({"_chart": "bar", "_x": "线路", "_y": "median:载客"}, "数值请选择"),
        ({"_chart": "scatter", "_x": "线路", "_y": "载客"}, "散点图的横轴和纵轴都应是数字列"),
        ({"_chart": "bar", "_x": "线路", "载客__gt": "many"}, "载客__gt"),
        ({"_chart": "bar", "_x": "线路", "nope": "1"}, "没有名为“nope”的列"),
    ],
)
def test_bad_choices_get_a_400_that_says_what_to_change(client, published, params, parameter_text):
    response = client.get("/datasets/bus/chart/", params)
    assert response.status_code == 400
    assert parameter_text in response.content.decode()


def test_charts_follow_the_data_access_rules(client, client_for, published, dataset):
    Dataset.objects.filter(pk=dataset.pk).update(open_type="conditional")
    assert client.get("/datasets/bus/chart/").status_code == 403
    assert client_for("provider", "JTJ").get("/datasets/bus/chart/").status_code == 200
    assert client.get("/datasets/nothing-here/chart/").status_code == 404


def test_dataset_and_data_pages_link_to_the_chart_with_the_filter(client, published):
    assert "/datasets/bus/chart/" in client.get("/datasets/bus/").content.decode()
    page = client.get("/datasets/bus/data/", {"线路": "2路"}).content.decode()
    assert "/datasets/bus/chart/?%E7%BA%BF%E8%B7%AF=2%E8%B7%AF" in page


@pytest.mark.django_db(transaction=True)
def test_echarts_draws_the_chart_in_chromium(live_server, browser, published):
    for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
        page = browser.new_page(viewport=viewport)
        errors: list[str] = []
        page.on(
            "console", lambda message, errors=errors: errors.append(message.text) if message.type == "error" else None
        )
        page.goto(live_server.url + "/datasets/bus/chart/?_chart=bar&_x=%E7%BA%BF%E8%B7%AF&_y=count")
        page.wait_for_selector("#chart[data-drawn]")
        assert page.locator("#chart").get_attribute("data-drawn") == "5"  # four lines and the rows without one
        # the canvas holds a drawing, not a blank rectangle, and fits the page on a phone
        painted = page.evaluate(
            """() => { const c = document.querySelector('#chart canvas');
                       const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                       const seen = new Set();
                       for (let i = 0; i < d.length; i += 40) seen.add(d[i] + ',' + d[i+1] + ',' + d[i+2]);
                       return seen.size; }"""
        )
        assert painted > 5
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        assert page.locator("details.chart-table").get_attribute("open") is None  # the table folds under the chart
        assert errors == []
        page.close()
