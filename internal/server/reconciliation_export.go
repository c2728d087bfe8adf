package server

import (
	"context"
	"io"
	"net/http"

	"ccgtracker/internal/billing"
	"ccgtracker/internal/export"
	"ccgtracker/internal/tracker"
)

// The month's exports: CSV and XLSX, streamed as the lines pass.

// exportHeaders starts an attachment download under a name the server
// chooses, and sends the status before any line is read: whatever the
// session middleware does at the first write is done before the export
// holds a connection (or holds none: an open month streams from memory).
func exportHeaders(w http.ResponseWriter, contentType, name string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
}

// abortDownload ends a download that failed after it started: the status
// is sent, so the connection is cut rather than a partial file looking
// whole.
func (s *Server) abortDownload(r *http.Request, err error) {
	s.log.ErrorContext(r.Context(), "export failed", "path", r.URL.Path, "err", err)
	panic(http.ErrAbortHandler)
}

// reconciliationCSV streams the month as CSV, row by row, then the totals
// by supplier and by CCG after a blank row.
func (s *Server) reconciliationCSV(w http.ResponseWriter, r *http.Request) error {
	p, err := reconPeriod(r)
	if err != nil {
		return err
	}
	exportHeaders(w, "text/csv; charset=utf-8", "reconciliation-"+p.String()+".csv")
	if r.Method == http.MethodHead {
		return nil
	}
	return s.withDownloadSlot(r.Context(), func() error {
		if err := s.writeReconCSV(r.Context(), newStreamWriter(w), p); err != nil {
			s.abortDownload(r, err)
		}
		return nil
	})
}

func (s *Server) writeReconCSV(ctx context.Context, w io.Writer, p tracker.Period) error {
	m, err := s.billing.Month(ctx, p.First())
	if err != nil {
		return err
	}
	c := export.NewCSV(w)
	if err := c.Text(billing.ExportColumns...); err != nil {
		return err
	}
	if err := s.billing.EachLine(ctx, m, func(l billing.Line) error { return c.Row(billing.ExportRow(l)...) }); err != nil {
		return err
	}
	for _, t := range []struct {
		title, head string
		rows        []billing.Totals
	}{{"Totals by supplier", "Supplier", m.BySupplier}, {"Totals by CCG", "CCG", m.ByCCG}} {
		if err := c.Text(); err != nil {
			return err
		}
		if err := c.Text(t.title); err != nil {
			return err
		}
		if err := c.Text(append([]string{t.head + " code", t.head + " name"}, billing.TotalsColumns...)...); err != nil {
			return err
		}
		for _, row := range t.rows {
			if err := c.Row(billing.TotalsRow(row)...); err != nil {
				return err
			}
		}
	}
	return c.Flush()
}

// The sheets of the XLSX export.
const (
	reconSheetLines     = "Lines"
	reconSheetSuppliers = "Totals by supplier"
	reconSheetCCGs      = "Totals by CCG"
)

// reconciliationXLSX streams the month as a workbook, written once as
// the lines pass: the lines on one sheet, the totals on two more.
func (s *Server) reconciliationXLSX(w http.ResponseWriter, r *http.Request) error {
	p, err := reconPeriod(r)
	if err != nil {
		return err
	}
	exportHeaders(w, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "reconciliation-"+p.String()+".xlsx")
	if r.Method == http.MethodHead {
		return nil
	}
	return s.withDownloadSlot(r.Context(), func() error {
		if err := s.writeReconXLSX(r.Context(), newStreamWriter(w), p); err != nil {
			s.abortDownload(r, err)
		}
		return nil
	})
}

func (s *Server) writeReconXLSX(ctx context.Context, w io.Writer, p tracker.Period) error {
	m, err := s.billing.Month(ctx, p.First())
	if err != nil {
		return err
	}
	x, err := export.NewXLSX(w, reconSheetLines, reconSheetSuppliers, reconSheetCCGs)
	if err != nil {
		return err
	}
	if err := x.Sheet(m.Count, len(billing.ExportColumns)); err != nil {
		return err
	}
	if err := x.Head(billing.ExportColumns...); err != nil {
		return err
	}
	if err := s.billing.EachLine(ctx, m, func(l billing.Line) error { return x.Row(billing.ExportRow(l)...) }); err != nil {
		return err
	}
	for _, t := range []struct {
		head string
		rows []billing.Totals
	}{{"Supplier", m.BySupplier}, {"CCG", m.ByCCG}} {
		head := append([]string{t.head + " code", t.head + " name"}, billing.TotalsColumns...)
		if err := x.Sheet(len(t.rows), len(head)); err != nil {
			return err
		}
		if err := x.Head(head...); err != nil {
			return err
		}
		for _, row := range t.rows {
			if err := x.Row(billing.TotalsRow(row)...); err != nil {
				return err
			}
		}
	}
	return x.Close()
}
