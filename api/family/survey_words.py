"""The evaluation survey's wording, marked for the family site's catalogues.

The English wording of the waves, questions and answers is defined once, in
``evaluation/surveys.py`` (the API serves it and reports cite it); this module repeats each
English text inside ``N_`` only so that ``python -m api.family.i18n`` puts it into the
catalogues, where the Welsh wording lives. The pages translate the survey's own strings,
and a test checks that every text ``surveys.questions`` can return is listed here and has
a Welsh translation, so the two never drift apart. Plain numbers need no translation.
"""

from __future__ import annotations

from api.family.i18n import N_

TEXTS = (
    # waves
    N_("At registration"),
    N_("At the end of the game"),
    N_("Follow-up"),
    # physical activity (Milton et al. 2011)
    N_(
        "In the past week, on how many days have you done a total of 30 minutes or more of "
        "physical activity, which was enough to raise your breathing rate?"
    ),
    # belonging (Community Life Survey)
    N_("How strongly do you feel you belong to your immediate neighbourhood?"),
    N_("Very strongly"),
    N_("Fairly strongly"),
    N_("Not very strongly"),
    N_("Not at all strongly"),
    # Nature Connection Index (Richardson et al. 2019)
    N_("How much do you agree with each statement? 1 = completely disagree, 7 = completely agree."),
    N_("I always find beauty in nature"),
    N_("I always treat nature with respect"),
    N_("Being in nature makes me very happy"),
    N_("Spending time in nature is very important to me"),
    N_("I find being in nature really amazing"),
    N_("I feel part of nature"),
    N_("1 - completely disagree"),
    N_("7 - completely agree"),
    # ONS personal well-being (ONS4)
    N_(
        "Next are questions about your feelings on aspects of your life. There are no right or "
        "wrong answers. For each of these questions give an answer on a scale of 0 to 10, where "
        "0 is 'not at all' and 10 is 'completely'."
    ),
    N_("Overall, how satisfied are you with your life nowadays?"),
    N_("Overall, to what extent do you feel that the things you do in your life are worthwhile?"),
    N_("Overall, how happy did you feel yesterday?"),
    N_(
        "On a scale where 0 is 'not at all anxious' and 10 is 'completely anxious', overall, "
        "how anxious did you feel yesterday?"
    ),
    N_("0 - not at all satisfied"),
    N_("10 - completely satisfied"),
    N_("0 - not at all worthwhile"),
    N_("10 - completely worthwhile"),
    N_("0 - not at all happy"),
    N_("10 - completely happy"),
    N_("0 - not at all anxious"),
    N_("10 - completely anxious"),
    # ONS direct measure of loneliness
    N_("How often do you feel lonely?"),
    N_("Often or always"),
    N_("Some of the time"),
    N_("Occasionally"),
    N_("Hardly ever"),
    N_("Never"),
    N_("Prefer not to say"),
)
