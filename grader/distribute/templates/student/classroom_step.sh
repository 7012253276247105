rm -f $out
timeout $seconds python -m grader grade exercises --steps $number --classroom $out --quiet || true
if [ ! -s $out ]; then
  cat > $out <<'RESULT'
$fallback
RESULT
fi
echo "result=$$(base64 -w0 $out)" >> "$$GITHUB_OUTPUT"
