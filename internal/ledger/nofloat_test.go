package ledger

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestMoneyIsNeverFloat checks that no type of the package's API holds a
// float, and that no non-test source of the ledger (this package and the
// store's ledger.go) mentions a float type.
func TestMoneyIsNeverFloat(t *testing.T) {
	for _, v := range []any{Transaction{}, Entry{}, Account{}, Balance{}, Result{}, Posting{}, Split{}, HoldParams{},
		CaptureParams{}, VoidParams{}, RefundParams{}, PayoutParams{}, TopUpParams{}, FeeParams{}, CollectFeeParams{}} {
		checkNoFloat(t, reflect.TypeOf(v), reflect.TypeOf(v).Name(), map[reflect.Type]bool{})
	}
	files, _ := filepath.Glob("*.go")
	files = append(files, filepath.Join("..", "store", "ledger.go"))
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && (id.Name == "float32" || id.Name == "float64" || id.Name == "NullFloat64") {
				t.Errorf("%s: %s", fset.Position(id.Pos()), id.Name)
			}
			return true
		})
	}
}

func checkNoFloat(t *testing.T, typ reflect.Type, path string, seen map[reflect.Type]bool) {
	if seen[typ] {
		return
	}
	seen[typ] = true
	switch typ.Kind() {
	case reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		t.Errorf("%s is a %s", path, typ)
	case reflect.Struct:
		for i := range typ.NumField() {
			f := typ.Field(i)
			checkNoFloat(t, f.Type, path+"."+f.Name, seen)
		}
	case reflect.Slice, reflect.Array, reflect.Pointer:
		checkNoFloat(t, typ.Elem(), path+"[]", seen)
	case reflect.Map:
		checkNoFloat(t, typ.Key(), path+"[key]", seen)
		checkNoFloat(t, typ.Elem(), path+"[]", seen)
	}
}
