"""Staff accounts: organisers, team managers and evaluators who sign in to the console.

``models`` holds the tables, ``repository`` their SQL, ``passwords`` and ``totp`` the
credentials, ``throttle`` the sign-in limits and ``service`` the logic (it never commits).
"""
