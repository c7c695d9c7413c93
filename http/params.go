package http

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	nethttp "net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/goasync/goasync/future"
)

// ParamError is a request parameter that is missing or invalid. Handlers
// made with Typed answer it with 400 and its message, which names the
// parameter.
type ParamError struct {
	// Param is the parameter name as declared in the tag.
	Param string
	// Reason says what is wrong, e.g. "missing" or "at most 16 characters".
	Reason string
}

// Error reads like `parameter "room": at most 16 characters`.
func (e *ParamError) Error() string { return fmt.Sprintf("parameter %q: %s", e.Param, e.Reason) }

// Typed returns a handler whose parameters are declared once, as the
// tagged fields of the struct P (house's define-handler):
//
//	type sendMessage struct {
//		Room    string `param:"room,required,max=16"`
//		Name    string `param:"name,required,min=1,max=64"`
//		Message string `param:"message,required,min=5,max=256"`
//	}
//	rt.Handle("POST /send-message", http.Typed(func(r *nethttp.Request, p *sendMessage) *future.Future[*http.Response] {
//		...
//	}))
//
// For each request, Typed reads the parameters into a new P and validates
// them; fn runs only when all are valid, otherwise the reply is 400 naming
// the first bad parameter. The struct is inspected once, when Typed is
// called, and Typed panics on a malformed tag, like a bad route pattern.
//
// The tag is `param:"name[,option]..."` with options:
//
//	required        the parameter must be present
//	min=N, max=N    strings: length in characters; numbers: value;
//	                lists: applied to each element
//	minitems=N, maxitems=N  lists: number of elements
//	oneof=a|b|c     allowed values
//	default=V       value when absent
//	in=SOURCE       only this source: path, query, form or json
//	json            the value is JSON text decoded into the field's type
//
// Field types: string, bool, the int, uint and float kinds, slices of those
// (lists: repeated keys, or a JSON array), and any type with the json
// option. Values come from, in order: path variables of the route, the URL
// query, then the body: an application/x-www-form-urlencoded or
// multipart/form-data form, or the members of an application/json object.
// Fields without a param tag are left alone.
func Typed[P any](fn func(r *nethttp.Request, p *P) *future.Future[*Response]) Handler {
	spec := mustSpec(reflect.TypeFor[P]())
	return HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
		p := new(P)
		if err := spec.decode(r, reflect.ValueOf(p).Elem()); err != nil {
			return Reply(Error(nethttp.StatusBadRequest, err.Error()))
		}
		return fn(r, p)
	})
}

// TypedFunc is Typed for a handler that answers at once.
func TypedFunc[P any](fn func(r *nethttp.Request, p *P) *Response) Handler {
	spec := mustSpec(reflect.TypeFor[P]())
	return syncFunc(func(r *nethttp.Request) *Response {
		p := new(P)
		if err := spec.decode(r, reflect.ValueOf(p).Elem()); err != nil {
			return Error(nethttp.StatusBadRequest, err.Error())
		}
		return fn(r, p)
	})
}

// Bind reads and validates the parameters of r into a new P, as Typed does.
// The error is a *ParamError (or a 400-worthy body error). Bind panics if P
// has a malformed tag.
func Bind[P any](r *nethttp.Request) (*P, error) {
	spec := mustSpec(reflect.TypeFor[P]())
	p := new(P)
	if err := spec.decode(r, reflect.ValueOf(p).Elem()); err != nil {
		return nil, err
	}
	return p, nil
}

type paramSource uint8

const (
	srcPath paramSource = 1 << iota
	srcQuery
	srcForm
	srcJSON
	srcAll = srcPath | srcQuery | srcForm | srcJSON
)

type paramKind uint8

const (
	pkString paramKind = iota
	pkBool
	pkInt
	pkUint
	pkFloat
	pkJSON
)

type paramField struct {
	index    []int
	name     string
	in       paramSource
	required bool
	kind     paramKind
	list     bool
	typ      reflect.Type // field type (slice type for lists)
	elem     reflect.Type // element type for lists, else typ
	hasMin   bool
	hasMax   bool
	min, max float64
	minItems int
	maxItems int
	oneof    []string
	def      []string
}

type paramSpec struct{ fields []paramField }

var specCache sync.Map // reflect.Type -> *paramSpec

func mustSpec(t reflect.Type) *paramSpec {
	if s, ok := specCache.Load(t); ok {
		return s.(*paramSpec)
	}
	s, err := buildSpec(t)
	if err != nil {
		panic(err)
	}
	specCache.Store(t, s)
	return s
}

func kindOf(t reflect.Type) (paramKind, bool) {
	switch t.Kind() {
	case reflect.String:
		return pkString, true
	case reflect.Bool:
		return pkBool, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return pkInt, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return pkUint, true
	case reflect.Float32, reflect.Float64:
		return pkFloat, true
	}
	return 0, false
}

func buildSpec(t reflect.Type) (*paramSpec, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("http: parameters type %v is not a struct", t)
	}
	spec := &paramSpec{}
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("param")
		if !ok || tag == "-" {
			continue
		}
		if !sf.IsExported() {
			return nil, fmt.Errorf("http: parameter field %s.%s is not exported", t, sf.Name)
		}
		parts := strings.Split(tag, ",")
		f := paramField{index: sf.Index, name: parts[0], in: srcAll, typ: sf.Type, elem: sf.Type, minItems: -1, maxItems: -1}
		if f.name == "" {
			f.name = strings.ToLower(sf.Name)
		}
		bad := func(format string, a ...any) error {
			return fmt.Errorf("http: parameter %s.%s (tag %q): %s", t, sf.Name, tag, fmt.Sprintf(format, a...))
		}
		isJSON := false
		for _, opt := range parts[1:] {
			key, val, _ := strings.Cut(opt, "=")
			num := func() (float64, error) {
				x, err := strconv.ParseFloat(val, 64)
				if err != nil {
					return 0, bad("option %s needs a number", key)
				}
				return x, nil
			}
			var err error
			switch key {
			case "required":
				f.required = true
			case "json":
				isJSON = true
			case "min":
				f.hasMin = true
				f.min, err = num()
			case "max":
				f.hasMax = true
				f.max, err = num()
			case "minitems", "maxitems":
				var x float64
				if x, err = num(); err == nil {
					if key == "minitems" {
						f.minItems = int(x)
					} else {
						f.maxItems = int(x)
					}
				}
			case "oneof":
				f.oneof = strings.Split(val, "|")
			case "default":
				f.def = []string{val}
			case "in":
				switch val {
				case "path":
					f.in = srcPath
				case "query":
					f.in = srcQuery
				case "form":
					f.in = srcForm
				case "json":
					f.in = srcJSON
				default:
					return nil, bad("unknown source %q", val)
				}
			default:
				return nil, bad("unknown option %q", key)
			}
			if err != nil {
				return nil, err
			}
		}
		switch {
		case isJSON:
			f.kind = pkJSON
			if f.hasMin || f.hasMax || f.oneof != nil || f.minItems >= 0 || f.maxItems >= 0 {
				return nil, bad("json parameters take no min, max, items or oneof")
			}
		case sf.Type.Kind() == reflect.Slice:
			k, ok := kindOf(sf.Type.Elem())
			if !ok {
				return nil, bad("unsupported list element type %v (use the json option)", sf.Type.Elem())
			}
			f.kind, f.list, f.elem = k, true, sf.Type.Elem()
		default:
			k, ok := kindOf(sf.Type)
			if !ok {
				return nil, bad("unsupported type %v (use the json option)", sf.Type)
			}
			f.kind = k
			if f.minItems >= 0 || f.maxItems >= 0 {
				return nil, bad("minitems and maxitems apply to lists only")
			}
		}
		if f.kind == pkBool && (f.hasMin || f.hasMax) {
			return nil, bad("min and max do not apply to bool")
		}
		// Check the default and the allowed values against the type now,
		// not on the first request.
		if f.def != nil {
			if err := spec.check(&f, reflect.New(sf.Type).Elem(), f.def, nil); err != nil {
				return nil, bad("default: %v", err)
			}
		}
		for _, a := range f.oneof {
			if f.kind != pkJSON {
				if _, err := convertScalar(f.kind, f.elem, a); err != nil {
					return nil, bad("oneof value %q: %v", a, err)
				}
			}
		}
		spec.fields = append(spec.fields, f)
	}
	return spec, nil
}

// paramValues are the sources of one request, loaded on first use.
type paramValues struct {
	r         *nethttp.Request
	query     url.Values
	form      url.Values
	json      map[string]json.RawMessage
	bodyDone  bool
	bodyError error
}

func (pv *paramValues) loadBody() error {
	if pv.bodyDone {
		return pv.bodyError
	}
	pv.bodyDone = true
	r := pv.r
	if r.Body == nil || r.Method == nethttp.MethodGet || r.Method == nethttp.MethodHead {
		return nil
	}
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body := BodyBytes(r)
	if body == nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
		if err != nil {
			pv.bodyError = &ParamError{Param: "body", Reason: err.Error()}
			return pv.bodyError
		}
		body = b
		r.Body = &bodyReader{data: b}
	}
	switch ct {
	case "application/x-www-form-urlencoded":
		f, err := url.ParseQuery(string(body))
		if err != nil {
			pv.bodyError = &ParamError{Param: "body", Reason: "malformed form: " + err.Error()}
		}
		pv.form = f
	case "multipart/form-data":
		mr := &nethttp.Request{Method: r.Method, Header: nethttp.Header{"Content-Type": {r.Header.Get("Content-Type")}},
			Body: io.NopCloser(bytes.NewReader(body))}
		if params["boundary"] == "" {
			pv.bodyError = &ParamError{Param: "body", Reason: "multipart form without boundary"}
			return pv.bodyError
		}
		if err := mr.ParseMultipartForm(int64(len(body)) + 1); err != nil {
			pv.bodyError = &ParamError{Param: "body", Reason: "malformed multipart form: " + err.Error()}
			return pv.bodyError
		}
		pv.form = url.Values(mr.MultipartForm.Value)
		_ = mr.MultipartForm.RemoveAll()
	case "application/json":
		if len(bytes.TrimSpace(body)) == 0 {
			return nil
		}
		if err := json.Unmarshal(body, &pv.json); err != nil || pv.json == nil {
			pv.bodyError = &ParamError{Param: "body", Reason: "not a JSON object"}
		}
	}
	return pv.bodyError
}

// lookup returns the values of a field, raw JSON when it came from a JSON
// body, and whether it was found at all.
func (pv *paramValues) lookup(f *paramField) ([]string, json.RawMessage, bool, error) {
	if f.in&srcPath != 0 {
		if v := pv.r.PathValue(f.name); v != "" {
			return []string{v}, nil, true, nil
		}
	}
	if f.in&srcQuery != 0 {
		if pv.query == nil {
			pv.query = pv.r.URL.Query()
		}
		if vs, ok := pv.query[f.name]; ok {
			return vs, nil, true, nil
		}
	}
	if f.in&(srcForm|srcJSON) != 0 {
		if err := pv.loadBody(); err != nil {
			return nil, nil, false, err
		}
		if f.in&srcForm != 0 {
			if vs, ok := pv.form[f.name]; ok {
				return vs, nil, true, nil
			}
		}
		if f.in&srcJSON != 0 {
			if raw, ok := pv.json[f.name]; ok && string(raw) != "null" {
				return nil, raw, true, nil
			}
		}
	}
	return nil, nil, false, nil
}

func (s *paramSpec) decode(r *nethttp.Request, dst reflect.Value) error {
	pv := &paramValues{r: r}
	for i := range s.fields {
		f := &s.fields[i]
		vals, raw, ok, err := pv.lookup(f)
		if err != nil {
			return err
		}
		if !ok {
			if f.required {
				return &ParamError{Param: f.name, Reason: "missing"}
			}
			if f.def == nil {
				continue
			}
			vals = f.def
		}
		if err := s.check(f, dst.FieldByIndex(f.index), vals, raw); err != nil {
			return &ParamError{Param: f.name, Reason: err.Error()}
		}
	}
	return nil
}

// check converts vals (or raw JSON) into v and validates it.
func (s *paramSpec) check(f *paramField, v reflect.Value, vals []string, raw json.RawMessage) error {
	if f.kind == pkJSON {
		src := raw
		if src == nil {
			src = json.RawMessage(vals[len(vals)-1])
		}
		p := reflect.New(f.typ)
		if err := json.Unmarshal(src, p.Interface()); err != nil {
			return fmt.Errorf("invalid JSON: %v", err)
		}
		v.Set(p.Elem())
		return nil
	}
	if raw != nil {
		// A JSON body member: decode it as the field type, then validate.
		p := reflect.New(f.typ)
		if err := json.Unmarshal(raw, p.Interface()); err != nil {
			return fmt.Errorf("must be %s", describe(f))
		}
		v.Set(p.Elem())
	} else if f.list {
		sl := reflect.MakeSlice(f.typ, len(vals), len(vals))
		for i, s := range vals {
			x, err := convertScalar(f.kind, f.elem, s)
			if err != nil {
				return err
			}
			sl.Index(i).Set(x)
		}
		v.Set(sl)
	} else {
		if len(vals) > 1 {
			return fmt.Errorf("given %d times", len(vals))
		}
		x, err := convertScalar(f.kind, f.elem, vals[0])
		if err != nil {
			return err
		}
		v.Set(x)
	}
	if f.list {
		n := v.Len()
		if f.minItems >= 0 && n < f.minItems {
			return fmt.Errorf("at least %d items", f.minItems)
		}
		if f.maxItems >= 0 && n > f.maxItems {
			return fmt.Errorf("at most %d items", f.maxItems)
		}
		for i := range n {
			if err := validateScalar(f, v.Index(i)); err != nil {
				return fmt.Errorf("item %d: %v", i, err)
			}
		}
		return nil
	}
	return validateScalar(f, v)
}

func describe(f *paramField) string {
	k := map[paramKind]string{pkString: "a string", pkBool: "a boolean", pkInt: "an integer", pkUint: "a non-negative integer", pkFloat: "a number"}[f.kind]
	if f.list {
		return "a list of " + strings.TrimPrefix(strings.TrimPrefix(k, "an "), "a ") + "s"
	}
	return k
}

func convertScalar(k paramKind, t reflect.Type, s string) (reflect.Value, error) {
	v := reflect.New(t).Elem()
	switch k {
	case pkString:
		if !utf8.ValidString(s) {
			return v, fmt.Errorf("not valid UTF-8")
		}
		v.SetString(s)
	case pkBool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return v, fmt.Errorf("must be a boolean")
		}
		v.SetBool(b)
	case pkInt:
		n, err := strconv.ParseInt(s, 10, t.Bits())
		if err != nil {
			return v, fmt.Errorf("must be an integer of %d bits", t.Bits())
		}
		v.SetInt(n)
	case pkUint:
		n, err := strconv.ParseUint(s, 10, t.Bits())
		if err != nil {
			return v, fmt.Errorf("must be a non-negative integer of %d bits", t.Bits())
		}
		v.SetUint(n)
	case pkFloat:
		x, err := strconv.ParseFloat(s, t.Bits())
		if err != nil || x != x {
			return v, fmt.Errorf("must be a number")
		}
		v.SetFloat(x)
	}
	return v, nil
}

func validateScalar(f *paramField, v reflect.Value) error {
	var x float64
	var text string
	unit := ""
	switch f.kind {
	case pkString:
		text = v.String()
		if !utf8.ValidString(text) {
			return fmt.Errorf("not valid UTF-8")
		}
		x = float64(utf8.RuneCountInString(text))
		unit = " characters"
	case pkBool:
		text = strconv.FormatBool(v.Bool())
	case pkInt:
		x = float64(v.Int())
		text = strconv.FormatInt(v.Int(), 10)
	case pkUint:
		x = float64(v.Uint())
		text = strconv.FormatUint(v.Uint(), 10)
	case pkFloat:
		x = v.Float()
		text = strconv.FormatFloat(x, 'g', -1, 64)
	}
	if f.hasMin && x < f.min {
		return fmt.Errorf("at least %s%s", strconv.FormatFloat(f.min, 'g', -1, 64), unit)
	}
	if f.hasMax && x > f.max {
		return fmt.Errorf("at most %s%s", strconv.FormatFloat(f.max, 'g', -1, 64), unit)
	}
	if f.oneof != nil {
		for _, a := range f.oneof {
			if a == text {
				return nil
			}
			if f.kind == pkFloat || f.kind == pkInt || f.kind == pkUint {
				if y, err := strconv.ParseFloat(a, 64); err == nil && y == x {
					return nil
				}
			}
		}
		return fmt.Errorf("must be one of %s", strings.Join(f.oneof, ", "))
	}
	return nil
}
