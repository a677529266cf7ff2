from hjepa.cli import main

raise SystemExit(main())
