// Package upload holds the limits every uploaded file is read within, so
// that no file under its size limit can make the server allocate far more
// than its own size: encoding/csv builds a whole record before it returns
// it, at about 24 bytes a field, so one line of 5 MB of commas would cost
// 120 MB before any check saw it.
package upload

import (
	"bytes"
	"io"
)

// MaxCells is the most cells a row of an uploaded spreadsheet or CSV
// file may have: far more than any of the tracker's layouts has columns.
const MaxCells = 200

// CheckCSV finds the first record of CSV data with more than max fields,
// or longer than MaxXMLRun bytes, walking the data as encoding/csv
// (without LazyQuotes or TrimLeadingSpace) does but counting instead of
// keeping, so it needs no memory. It returns the line the record starts on
// (from 1) and the problem, or 0 and Fine. Where the data is not valid
// CSV it ends the record where encoding/csv would, so that it never counts
// fewer fields than encoding/csv will make.
func CheckCSV(data []byte, comma byte, max int) (int, Problem) {
	lineNo := 0
	next := func() ([]byte, bool) { // the next line with its "\n", if any
		if len(data) == 0 {
			return nil, false
		}
		lineNo++
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			l := data
			data = nil
			return l, true
		}
		l := data[:i+1]
		data = data[i+1:]
		return l, true
	}
	isEnd := func(l []byte) bool { // nothing but a line end left
		return len(l) == 0 || string(l) == "\n" || string(l) == "\r\n"
	}
	for {
		line, ok := next()
		if !ok {
			return 0, Fine
		}
		if isEnd(line) {
			continue // encoding/csv skips empty lines
		}
		start, fields, from := lineNo, 0, len(data)+len(line)
	record:
		for {
			fields++
			if fields > max {
				return start, TooWide
			}
			if from-len(data)-len(line) > MaxXMLRun {
				return start, TooLong
			}
			if len(line) == 0 || line[0] != '"' {
				i := bytes.IndexByte(line, comma)
				if i < 0 {
					break record
				}
				if bytes.IndexByte(line[:i], '"') >= 0 {
					break record // a bare quote ends the record
				}
				line = line[i+1:]
				continue record
			}
			line = line[1:]
			for {
				i := bytes.IndexByte(line, '"')
				switch {
				case i >= 0:
					line = line[i+1:]
					switch {
					case len(line) > 0 && line[0] == '"':
						line = line[1:] // an escaped quote
					case len(line) > 0 && line[0] == comma:
						line = line[1:]
						continue record
					default:
						break record // the field and record end, or a stray quote ends them
					}
				case len(line) > 0:
					// The quoted field goes on to the next line.
					if line, ok = next(); !ok {
						break record
					}
					if from-len(data)-len(line) > MaxXMLRun {
						return start, TooLong
					}
				default:
					break record
				}
			}
		}
		// encoding/csv read the whole of the record's last line.
		if from-len(data) > MaxXMLRun {
			return start, TooLong
		}
	}
}

// Limits of the XML inside an uploaded workbook.
const (
	// MaxXMLRun is the most bytes of one piece of XML (a tag, a run of
	// text, a comment): encoding/xml holds each whole. Excel's own limit
	// on a cell is 32,767 characters, at most 4 bytes each.
	MaxXMLRun = 256 << 10
	// MaxSharedStrings is the most shared strings a workbook may have:
	// reading one costs about 40 bytes each, once unpacked to a file.
	MaxSharedStrings = 200_000
)

// Problem is what CheckCSV or ScanXML found wrong with a file.
type Problem int

// The problems found.
const (
	Fine          Problem = iota
	TooWide               // a row has more than MaxCells cells
	TooMany               // more than MaxSharedStrings shared strings
	TooLong               // a tag, text, comment or CSV record longer than MaxXMLRun
	NotWellFormed         // a DOCTYPE, an unclosed comment ...: no workbook has them
)

// ScanXML reads a part of a workbook as a stream, with no memory beyond
// its buffer, and reports the first problem: a row (a "row" element) with
// more than MaxCells cells ("c" elements), too many shared strings ("si"
// elements), or a piece of XML too long to read safely. Namespace
// prefixes (x:row) are ignored, as encoding/xml matches local names; a
// comment, CDATA section or processing instruction is skipped whole, so
// that nothing in one can hide or fake an element.
func ScanXML(r io.ByteReader) (Problem, error) {
	var name [8]byte
	// Rows open, not a flag: a row inside a row would otherwise end the
	// count at its </row> while excelize goes on giving the outer row's
	// cells, as many as the part holds.
	rows := 0
	cells, strs, run := 0, 0, 0
	for {
		b, err := r.ReadByte()
		if err == io.EOF {
			return Fine, nil
		}
		if err != nil {
			return Fine, err
		}
		if b != '<' {
			if run++; run > MaxXMLRun {
				return TooLong, nil
			}
			continue
		}
		run = 0
		// The tag's name, up to a space, '>' or '/' (after a leading one).
		n, closing := 0, false
		first := true
		for {
			b, err = r.ReadByte()
			if err != nil {
				return NotWellFormed, nil
			}
			if first && b == '/' {
				closing, first = true, false
				continue
			}
			if first && (b == '!' || b == '?') {
				if p, err := skipSpecial(r, b); p != Fine || err != nil {
					return p, err
				}
				break
			}
			first = false
			if b == ' ' || b == '>' || b == '/' || b == '\t' || b == '\n' || b == '\r' {
				break
			}
			if b == ':' {
				n = 0 // a namespace prefix: the local name follows
				continue
			}
			if n < len(name) {
				name[n] = b
			}
			n++
			if n > 64 {
				return TooLong, nil
			}
		}
		if n > len(name) {
			continue
		}
		switch local := string(name[:n]); {
		case local == "row" && !closing:
			rows, cells = rows+1, 0
		case local == "row":
			rows = max(rows-1, 0)
		case local == "c" && !closing && rows > 0:
			if cells++; cells > MaxCells {
				return TooWide, nil
			}
		case local == "si" && !closing:
			if strs++; strs > MaxSharedStrings {
				return TooMany, nil
			}
		}
		if b == '>' {
			continue
		}
		run = n // the rest of the tag counts as a run
	}
}

// skipSpecial skips a comment (<!-- -->), a CDATA section
// (<![CDATA[ ]]>) or a processing instruction (<? ?>) whose first byte,
// '!' or '?', has been read; anything else starting with <! (a DOCTYPE)
// is not well formed for a workbook.
func skipSpecial(r io.ByteReader, kind byte) (Problem, error) {
	var end string
	switch kind {
	case '?':
		end = "?>"
	default:
		var head [2]byte
		for i := range head {
			b, err := r.ReadByte()
			if err != nil {
				return NotWellFormed, nil
			}
			head[i] = b
		}
		switch string(head[:]) {
		case "--":
			end = "-->"
		case "[C":
			for _, want := range []byte("DATA[") {
				if b, err := r.ReadByte(); err != nil || b != want {
					return NotWellFormed, nil
				}
			}
			end = "]]>"
		default:
			return NotWellFormed, nil
		}
	}
	matched := 0
	for n := 0; ; n++ {
		if n > MaxXMLRun {
			return TooLong, nil
		}
		b, err := r.ReadByte()
		if err != nil {
			return NotWellFormed, nil
		}
		switch {
		case matched == 2 && end[0] == end[1] && b == end[0]:
			// "]]]": the last two may still begin the end.
		case b == end[matched]:
			if matched++; matched == len(end) {
				return Fine, nil
			}
		case b == end[0]:
			matched = 1
		default:
			matched = 0
		}
	}
}
