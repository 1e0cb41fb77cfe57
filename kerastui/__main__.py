from kerastui.cli import main

raise SystemExit(main())
