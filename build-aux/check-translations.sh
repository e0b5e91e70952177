#!/bin/sh
# Fails when a language in po/LINGUAS lacks a translation of any string the
# sources mark translatable (or has a fuzzy one): the .po is merged with a
# template extracted from po/POTFILES now, so a string added to the code and
# not to the translation is caught here rather than by a user.
set -eu

src=${1:-$(dirname "$0")/..}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src"

grep -v '^#' po/POTFILES.in | grep -v '^[[:space:]]*$' > "$tmp/files"
xgettext --from-code=UTF-8 --add-comments --package-name=recoup \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 --keyword=g_dngettext:2,3 \
  --flag=g_strdup_printf:1:c-format --flag=g_string_append_printf:2:c-format \
  -f "$tmp/files" -o "$tmp/recoup.pot"

status=0
for lang in $(grep -v '^#' po/LINGUAS); do
  msgmerge --quiet --no-fuzzy-matching "po/$lang.po" "$tmp/recoup.pot" -o "$tmp/$lang.po"
  msgfmt --check-format -o /dev/null "$tmp/$lang.po"
  missing=$(msgattrib --untranslated --no-obsolete --no-wrap "$tmp/$lang.po" | grep '^msgid "' | grep -v '^msgid ""$' || true)
  fuzzy=$(msgattrib --only-fuzzy --no-obsolete --no-wrap "$tmp/$lang.po" | grep '^msgid "' | grep -v '^msgid ""$' || true)
  if [ -n "$missing$fuzzy" ]; then
    echo "po/$lang.po is not complete:"
    [ -n "$missing" ] && printf 'untranslated: %s\n' "$missing" | sed 's/^untranslated: msgid /  untranslated: /'
    [ -n "$fuzzy" ] && printf '%s\n' "$fuzzy" | sed 's/^msgid /  fuzzy: /'
    status=1
  else
    echo "po/$lang.po: $(msgfmt --statistics -o /dev/null "$tmp/$lang.po" 2>&1)"
  fi
done
exit $status
