package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/web/views"
)

// The admin's imports (issue 13): list sizes and ODS practices uploaded as
// the command line imports them, each kept in the history with its report.

// maxImportBytes bounds an uploaded import: the national files are a few
// megabytes (epraccur about 4 MB, a list-size extract under 1 MB).
const maxImportBytes = 32 << 20

// importsShown is how many imports of each kind the pages list.
const importsShown = 25

// listSizeRows is a practice's list-size history as its page shows it.
func (s *Server) listSizeRows(r *http.Request, code string) ([]views.ListSizeRow, error) {
	hist, err := org.ListSizeHistory(r.Context(), s.pool, code)
	if err != nil {
		return nil, err
	}
	rows := make([]views.ListSizeRow, len(hist))
	for i, h := range hist {
		rows[i] = views.ListSizeRow{Date: dates.Long(h.Date), Size: views.Number(h.Size)}
		if i+1 < len(hist) {
			switch d := h.Size - hist[i+1].Size; {
			case d > 0:
				rows[i].Change = "+" + views.Number(d)
			case d < 0:
				rows[i].Change = "−" + views.Number(-d)
			default:
				rows[i].Change = "0"
			}
		}
	}
	return rows, nil
}

func importRows(list []org.Import) []views.ImportRow {
	rows := make([]views.ImportRow, len(list))
	for i, im := range list {
		rows[i] = views.ImportRow{Href: "/admin/imports/" + strconv.FormatInt(im.ID, 10), At: im.At.In(dates.London).Format(stamp),
			By: im.By, FileName: im.FileName, Kind: im.Kind, Summary: importSummary(im)}
	}
	return rows
}

// importSummary is an import's counts in a line.
func importSummary(im org.Import) string {
	c := im.Counts
	n := func(k string) string { return views.Number(c[k]) }
	if im.Kind == org.ImportKindListSizes {
		s := ""
		if im.ExtractDate != nil {
			s = "List of " + dates.Long(*im.ExtractDate) + ": "
		}
		return s + n("new") + " new, " + n("changed") + " changed, " + n("unchanged") + " unchanged, " + n("unknown") + " unknown practices"
	}
	return n("inserted") + " added, " + n("updated") + " updated, " + n("unchanged") + " unchanged, " + n("skipped") + " skipped, " +
		n("proposals") + " proposals to CCGs"
}

func (s *Server) importHistory(r *http.Request, kind string) ([]views.ImportRow, int, error) {
	res, err := org.Imports(r.Context(), s.pool, kind, paging.Page{Number: 1, Size: importsShown})
	if err != nil {
		return nil, 0, err
	}
	return importRows(res.Rows), res.Total, nil
}

// adminImports is the history of imports.
func (s *Server) adminImports(w http.ResponseWriter, r *http.Request) error {
	var v views.AdminImportsPage
	var err error
	if v.ListSizes, v.ListSizesTotal, err = s.importHistory(r, org.ImportKindListSizes); err != nil {
		return err
	}
	if v.ODS, v.ODSTotal, err = s.importHistory(r, org.ImportKindODS); err != nil {
		return err
	}
	v.Page = s.page(r, "Imports", views.Link{Label: "Dashboard", Href: "/"})
	s.render(w, r, http.StatusOK, views.AdminImports(v))
	return nil
}

// importForms are the two kinds of upload.
var importForms = map[string]views.AdminImportUploadPage{
	org.ImportKindListSizes: {Title: "Import list sizes", Action: "/admin/imports/list-sizes",
		Lead: "NHS Digital publishes Patients Registered at a GP Practice every month. Import the file of all patients (gp-reg-pat-prac-all.csv): " +
			"every extract is kept, and each month's per-patient charges use the latest list dated on or before its 1st.",
		FileHint: "The CSV file as published, with its header (EXTRACT_DATE, CODE, NUMBER_OF_PATIENTS ...). If any row is wrong, nothing is imported " +
			"and every problem is listed by line and column; practices the tracker does not know are counted and listed."},
	org.ImportKindODS: {Title: "Import ODS practices", Action: "/admin/imports/ods",
		Lead: "The ODS file of GP practices (epraccur.csv) brings practices' names, dates, status and commissioners up to date. " +
			"A practice that closed or moved while it has planned or live services is proposed to its CCG's open return.",
		FileHint: "The CSV file as published by ODS, without a header. If any row is wrong, nothing is imported and every problem is listed by line."},
}

func (s *Server) renderImportForm(w http.ResponseWriter, r *http.Request, kind string, status int, problems []views.UploadProblem) error {
	v := importForms[kind]
	v.Problems = problems
	var err error
	if v.History, v.HistoryTotal, err = s.importHistory(r, kind); err != nil {
		return err
	}
	v.Page = s.page(r, v.Title, views.Link{Label: "Dashboard", Href: "/"}, views.Link{Label: "Imports", Href: "/admin/imports"})
	s.render(w, r, status, views.AdminImportUpload(v))
	return nil
}

func (s *Server) adminListSizesForm(w http.ResponseWriter, r *http.Request) error {
	return s.renderImportForm(w, r, org.ImportKindListSizes, http.StatusOK, nil)
}

func (s *Server) adminODSForm(w http.ResponseWriter, r *http.Request) error {
	return s.renderImportForm(w, r, org.ImportKindODS, http.StatusOK, nil)
}

// importFile opens the uploaded file, or says (as a problem to show) why
// there is none.
func importFile(w http.ResponseWriter, r *http.Request) (io.ReadCloser, string, string) {
	r.Body = http.MaxBytesReader(w, r.Body, maxImportBytes+uploadOverhead)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, "", "The file is larger than 32 MB: a national file is a few megabytes. Check it is the right file"
		}
		return nil, "", "The file could not be read: choose the CSV file and upload it again"
	}
	file, header, err := r.FormFile(views.UploadFileInput)
	if err != nil {
		return nil, "", "Choose the CSV file to import"
	}
	return file, filepath.Base(header.Filename), ""
}

// rowProblems are a refused file's bad rows, for the upload's error summary.
func rowProblems(errs []org.ODSRowError) []views.UploadProblem {
	out := make([]views.UploadProblem, 0, min(len(errs), 100))
	for i, e := range errs {
		if i == 100 {
			out = append(out, views.UploadProblem{Message: fmt.Sprintf("and %d more problems", len(errs)-i)})
			break
		}
		out = append(out, views.UploadProblem{Row: strconv.Itoa(e.Line), Column: e.Column, Message: e.Message})
	}
	return out
}

func (s *Server) adminListSizesImport(w http.ResponseWriter, r *http.Request) error {
	file, name, problem := importFile(w, r)
	if problem != "" {
		return s.renderImportForm(w, r, org.ImportKindListSizes, http.StatusBadRequest, []views.UploadProblem{{Message: problem}})
	}
	defer file.Close()
	defer r.MultipartForm.RemoveAll()
	rep, err := s.orgs.ImportListSizes(r.Context(), currentUser(r).Actor(), name, file)
	var fe *org.ListSizeFileError
	if errors.As(err, &fe) {
		return s.renderImportForm(w, r, org.ImportKindListSizes, http.StatusUnprocessableEntity, rowProblems(fe.Errors))
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/admin/imports/"+strconv.FormatInt(rep.ImportID, 10))
}

func (s *Server) adminODSImport(w http.ResponseWriter, r *http.Request) error {
	file, name, problem := importFile(w, r)
	if problem != "" {
		return s.renderImportForm(w, r, org.ImportKindODS, http.StatusBadRequest, []views.UploadProblem{{Message: problem}})
	}
	defer file.Close()
	defer r.MultipartForm.RemoveAll()
	_, id, _, err := s.tracker.ImportODS(r.Context(), currentUser(r).Actor(), name, file)
	var fe *org.ODSFileError
	if errors.As(err, &fe) {
		return s.renderImportForm(w, r, org.ImportKindODS, http.StatusUnprocessableEntity, rowProblems(fe.Errors))
	}
	var invalid *apperr.Error
	if errors.As(err, &invalid) && invalid.Code == apperr.Invalid {
		return s.renderImportForm(w, r, org.ImportKindODS, http.StatusUnprocessableEntity, []views.UploadProblem{{Message: invalid.Message}})
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/admin/imports/"+strconv.FormatInt(id, 10))
}

// adminImport is one import's report.
func (s *Server) adminImport(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	im, err := org.GetImport(r.Context(), s.pool, id)
	if err != nil {
		return err
	}
	v := views.AdminImportReportPage{FileName: im.FileName, By: im.By, At: im.At.In(dates.London).Format(stamp)}
	n := func(k string) string { return views.Number(im.Counts[k]) }
	if im.Kind == org.ImportKindListSizes {
		v.Title = "List sizes imported"
		if im.ExtractDate != nil {
			v.Title = "List sizes of " + dates.Long(*im.ExtractDate) + " imported"
		}
		v.Counts = []views.CountRow{{Label: "Rows read", Value: n("rows")}, {Label: "New sizes", Value: n("new")}, {Label: "Changed sizes", Value: n("changed")},
			{Label: "Unchanged sizes", Value: n("unchanged")}, {Label: "Practices the tracker does not know", Value: n("unknown")}}
		var rep struct {
			Changed []org.SizeChange
			Unknown []string
		}
		if err := json.Unmarshal(im.Report, &rep); err != nil {
			return err
		}
		changed := make([]string, len(rep.Changed))
		for i, c := range rep.Changed {
			changed[i] = c.Code + ": " + views.Number(c.Before) + " → " + views.Number(c.After) + " patients"
		}
		v.Lists = []views.ReportList{
			{ID: "changed", Heading: "Changed sizes", Items: changed, More: im.Counts["changed"] - len(changed)},
			{ID: "unknown", Heading: "Practices the tracker does not know (not imported)", Items: rep.Unknown, More: im.Counts["unknown"] - len(rep.Unknown)},
		}
	} else {
		v.Title = "ODS practices imported"
		v.Counts = []views.CountRow{{Label: "Rows read", Value: n("rows")}, {Label: "Practices added", Value: n("inserted")}, {Label: "Practices updated", Value: n("updated")},
			{Label: "Practices unchanged", Value: n("unchanged")}, {Label: "Rows skipped", Value: n("skipped")}, {Label: "Warnings", Value: n("warnings")}, {Label: "Proposals to CCGs", Value: n("proposals")}}
		var rep struct {
			Inserted []org.ODSInsert
			Updated  []org.ODSUpdate
		}
		if err := json.Unmarshal(im.Report, &rep); err != nil {
			return err
		}
		var added, updated []string
		for _, p := range rep.Inserted {
			added = append(added, p.Code+" "+p.Name+", CCG "+p.CCGCode)
		}
		for _, u := range rep.Updated {
			var parts []string
			for _, c := range u.Changes {
				parts = append(parts, odsFieldName(c.Field)+" "+orNone(c.Before)+" → "+orNone(c.After))
			}
			updated = append(updated, u.Code+": "+strings.Join(parts, "; "))
		}
		v.Lists = []views.ReportList{
			{ID: "added", Heading: "Practices added", Items: added, More: im.Counts["inserted"] - len(added)},
			{ID: "updated", Heading: "Practices updated", Items: updated, More: im.Counts["updated"] - len(updated)},
		}
	}
	v.Page = s.page(r, v.Title, views.Link{Label: "Dashboard", Href: "/"}, views.Link{Label: "Imports", Href: "/admin/imports"})
	s.render(w, r, http.StatusOK, views.AdminImportReport(v))
	return nil
}

func odsFieldName(f string) string {
	switch f {
	case "ccg_code":
		return "CCG"
	case "open_date":
		return "open date"
	case "close_date":
		return "close date"
	}
	return f
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
