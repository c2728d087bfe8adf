package tracker

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"runtime"
	"strings"
	"testing"
)

// uploadMemoryBound is what reading any file under the size limit may
// allocate in all: a few tens of MB, never hundreds.
const uploadMemoryBound = 40 << 20

// allocated is the bytes fn allocates (all of them, freed or not). The
// tests using it do not run in parallel, so nothing else allocates
// meanwhile.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// workbookWith is a minimal workbook whose one sheet, Changes, is sheet
// XML; lie, when not zero, is the size its header claims for the sheet.
func workbookWith(t *testing.T, sheet string, lie uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Changes" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
	}
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(p.body)); err != nil {
			t.Fatal(err)
		}
	}
	body := []byte(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` + sheet + `</sheetData></worksheet>`)
	var packed bytes.Buffer
	fw, _ := flate.NewWriter(&packed, flate.BestCompression)
	if _, err := fw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	size := uint64(len(body))
	if lie != 0 {
		size = lie
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate,
		CRC32: crc32.ChecksumIEEE(body), CompressedSize64: uint64(packed.Len()), UncompressedSize64: size})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(packed.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > MaxUploadBytes {
		t.Fatalf("the workbook is %d bytes, over the upload limit", buf.Len())
	}
	return buf.Bytes()
}

// Files under the size limit built to make a parser allocate without end
// are refused, saying what is wrong, within a few tens of MB.
func TestUploadMemoryStaysBounded(t *testing.T) {
	heading := strings.Join(ChangeColumns(), ",") + "\n"
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"CSVOfOneRowOfCommas", []byte(strings.Repeat(",", MaxUploadBytes-1)), "The row on line 1 has more than 200 cells"},
		{"CSVWithAWideRowAfterTheHeadings", []byte(heading + strings.Repeat(";", MaxUploadBytes-len(heading)-1)), "The row on line 2 is longer than a row of changes can be"},
		{"CSVOfQuotedCellsAcrossLines", []byte(heading + strings.Repeat("\"\n\",", (MaxUploadBytes-len(heading))/4)), "The row on line 2 has more than 200 cells"},
		{"XLSXRowOfTwoMillionCells", workbookWith(t, `<row r="1">`+strings.Repeat(`<c><v>1</v></c>`, 2_000_000)+`</row>`, 0), "A row of the workbook has more than 200 cells"},
		{"XLSXRowOfPrefixedCells", workbookWith(t, `<x:row r="1">`+strings.Repeat(`<x:c><x:v>1</x:v></x:c>`, 1_000_000)+`</x:row>`, 0), "A row of the workbook has more than 200 cells"},
		{"XLSXCellsHiddenBehindAComment", workbookWith(t, `<row r="1"><!-- </row> -->`+strings.Repeat(`<c><v>1</v></c>`, 1_000_000)+`</row>`, 0), "A row of the workbook has more than 200 cells"},
		{"XLSXCellOfThirtyMB", workbookWith(t, `<row r="1"><c t="inlineStr"><is><t>`+strings.Repeat("a", 30<<20)+`</t></is></c></row>`, 0), "holds more text than Excel allows"},
		{"XLSXSheetThatInflatesPastWhatItSays", workbookWith(t, `<row r="1">`+strings.Repeat(`<c><v>1</v></c>`, 150)+`</row>`+strings.Repeat(`<row/>`, 5_000_000), 1000), "it may be damaged"},
		{"XLSXSheetOverTheUnpackedLimit", workbookWith(t, strings.Repeat(`<row/>`, 6_000_000), 0), "too large once unpacked"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var errs []RowError
			n := allocated(func() { _, errs = ParseChanges(bytes.NewReader(c.file), "changes") })
			t.Logf("%s: %d KB file, %.1f MB allocated", c.name, len(c.file)>>10, float64(n)/(1<<20))
			if n > uploadMemoryBound {
				t.Errorf("%s: reading allocated %.0f MB, want under %d MB", c.name, float64(n)/(1<<20), uploadMemoryBound>>20)
			}
			if len(errs) == 0 || !strings.Contains(errs[0].Message, c.want) {
				t.Errorf("%s: problems %v, want one saying %q", c.name, errs, c.want)
			}
		})
	}
}
