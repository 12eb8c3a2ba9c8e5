from xiangyin.cli import app

app(prog_name="xiangyin")
