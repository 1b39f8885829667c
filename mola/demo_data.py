"""The demo community's teachings: a volleyball club teaching serve cues.

Plain data, so the seed, the tests and the benchmarks can share it. A few coaches disagree
on purpose, as real coaches do.
"""

FEATURES = [
    {
        "name": "toss_height_cm",
        "kind": "number",
        "unit": "cm",
        "min": 0,
        "max": 150,
        "description": "How far the toss rises above the tossing hand.",
    },
    {
        "name": "toss_forward_cm",
        "kind": "number",
        "unit": "cm",
        "min": -40,
        "max": 60,
        "description": "Where the toss lands relative to the hitting shoulder (negative: behind).",
    },
    {
        "name": "elbow_angle_deg",
        "kind": "number",
        "unit": "°",
        "min": 60,
        "max": 180,
        "description": "Hitting-arm elbow angle at contact.",
    },
    {
        "name": "contact_height_cm",
        "kind": "number",
        "unit": "cm",
        "min": 150,
        "max": 320,
        "description": "Height of the ball at contact.",
    },
    {
        "name": "approach_steps",
        "kind": "number",
        "min": 0,
        "max": 4,
        "description": "Steps taken before the serve.",
    },
    {
        "name": "serve_type",
        "kind": "category",
        "choices": ["float", "jump", "jump_float", "underhand"],
    },
    {"name": "stance", "kind": "category", "choices": ["square", "staggered", "open"]},
    {"name": "wrist_snap", "kind": "boolean", "description": "The wrist snaps at contact."},
    {"name": "eyes_on_ball", "kind": "boolean", "description": "Eyes stay on the ball to contact."},
    {"name": "fatigued", "kind": "boolean", "description": "Late in a long session."},
]

LABELS = [
    {"name": "toss in front", "description": "Move the toss in front of the hitting shoulder."},
    {"name": "higher toss", "description": "Toss higher to give time for the arm swing."},
    {"name": "high elbow", "description": "Lift the elbow above the shoulder."},
    {"name": "firm wrist", "description": "Keep the wrist firm: a float serve must not spin."},
    {"name": "watch the ball", "description": "Eyes on the ball through contact."},
    {"name": "no cue", "description": "Nothing to correct: let the player serve."},
]

# username, role, expertise, what the login is for
USERS = [
    ("olga", "owner", "master", "owner of the space"),
    ("mona", "moderator", "expert", "moderator"),
    ("anna", "teacher", "master", "master coach"),
    ("ben", "teacher", "expert", "expert coach"),
    ("carla", "teacher", "intermediate", "club coach"),
    ("dmitri", "teacher", "intermediate", "club coach"),
    ("eva", "teacher", "novice", "new coach (her teachings need endorsement)"),
    ("farid", "teacher", "novice", "new coach (his teachings need endorsement)"),
]

CONCEPTS = [
    ("anna", "low_toss", "toss_height_cm < 40", "The toss gives the arm no time."),
    ("anna", "high_toss", "toss_height_cm > 90", ""),
    ("anna", "toss_behind", "toss_forward_cm < 0", "The ball drifts behind the head."),
    ("ben", "toss_far_front", "toss_forward_cm > 40", ""),
    ("ben", "dropped_elbow", "elbow_angle_deg < 110", "The elbow sits below the shoulder."),
    ("ben", "straight_arm", "elbow_angle_deg >= 160", ""),
    ("carla", "low_contact", "contact_height_cm < 200", ""),
    ("anna", "jumping_serve", 'serve_type in ["jump", "jump_float"]', ""),
    ("carla", "standing_serve", 'serve_type in ["float", "underhand"]', ""),
    ("anna", "floater", 'serve_type in ["float", "jump_float"]', "Serves meant not to spin."),
    ("dmitri", "long_approach", "approach_steps >= 3", ""),
    ("anna", "eyes_off", "not eyes_on_ball", ""),
    ("ben", "sloppy_toss", "low_toss or toss_behind", ""),
    ("dmitri", "tired_jumper", "fatigued and jumping_serve", ""),
    ("anna", "good_mechanics", "not dropped_elbow and not sloppy_toss and eyes_on_ball", ""),
]

# author, condition, label, rationale
RULES = [
    ("anna", "eyes_off", "watch the ball", "Nothing else matters if the eyes leave the ball."),
    ("anna", "toss_behind and eyes_on_ball", "toss in front", "Fix the toss before the arm."),
    ("anna", "low_toss and eyes_on_ball and not toss_behind", "higher toss", ""),
    ("anna", "dropped_elbow and not sloppy_toss and eyes_on_ball", "high elbow", ""),
    ("anna", "floater and wrist_snap and good_mechanics", "firm wrist", ""),
    ("anna", "good_mechanics and not (floater and wrist_snap)", "no cue", ""),
    (
        "ben",
        "toss_forward_cm < -10 and eyes_on_ball",
        "toss in front",
        "Far behind: always the toss first.",
    ),
    ("ben", "toss_height_cm < 30 and eyes_on_ball and not toss_behind", "higher toss", ""),
    ("ben", "elbow_angle_deg < 100 and not sloppy_toss and eyes_on_ball", "high elbow", ""),
    ("ben", 'serve_type == "float" and wrist_snap and good_mechanics', "firm wrist", ""),
    # Ben thinks a jumper with a dropped elbow needs more time, not an elbow cue.
    (
        "ben",
        "dropped_elbow and jumping_serve",
        "higher toss",
        "Jumpers drop the elbow because the toss is rushed.",
    ),
    ("ben", "good_mechanics and straight_arm", "no cue", ""),
    (
        "carla",
        'toss_forward_cm < -5 and serve_type == "float" and eyes_on_ball',
        "toss in front",
        "",
    ),
    (
        "carla",
        "toss_height_cm < 35 and standing_serve and eyes_on_ball and not toss_behind",
        "higher toss",
        "",
    ),
    (
        "carla",
        "elbow_angle_deg < 105 and standing_serve and not sloppy_toss and eyes_on_ball",
        "high elbow",
        "",
    ),
    (
        "carla",
        "low_contact and not jumping_serve and eyes_on_ball and not sloppy_toss",
        "high elbow",
        "Low contact comes from a bent arm.",
    ),
    # Carla lets underhand servers toss behind: it is how the underhand serve works.
    (
        "carla",
        'serve_type == "underhand" and toss_behind',
        "no cue",
        "Underhand serves are hit from behind the hip.",
    ),
    ("carla", 'serve_type == "jump_float" and wrist_snap and eyes_on_ball', "firm wrist", ""),
    ("dmitri", "eyes_off and fatigued", "watch the ball", ""),
    (
        "dmitri",
        "tired_jumper and dropped_elbow and not sloppy_toss and eyes_on_ball",
        "high elbow",
        "",
    ),
    (
        "dmitri",
        "long_approach and low_toss and eyes_on_ball and not toss_behind",
        "higher toss",
        "",
    ),
    (
        "dmitri",
        "toss_far_front and eyes_on_ball and not dropped_elbow",
        "no cue",
        "A toss slightly in front is fine.",
    ),
    # Dmitri calls a fatigued player's wrist snap a fatigue issue, not a cue.
    ("dmitri", "floater and wrist_snap and fatigued", "no cue", "Tired players flick; rest them."),
    (
        "dmitri",
        'stance == "open" and toss_behind and eyes_on_ball and jumping_serve',
        "toss in front",
        "",
    ),
    (
        "anna",
        'high_toss and toss_behind and eyes_on_ball and serve_type != "underhand"',
        "toss in front",
        "",
    ),
    (
        "anna",
        "elbow_angle_deg between 110 and 130 and eyes_on_ball and not sloppy_toss "
        "and not (floater and wrist_snap)",
        "no cue",
        "",
    ),
    ("ben", "contact_height_cm > 260 and good_mechanics", "no cue", ""),
    ("ben", "toss_behind and jumping_serve", "toss in front", ""),
    ("carla", "eyes_off and standing_serve", "watch the ball", ""),
    ("carla", "good_mechanics and not wrist_snap", "no cue", ""),
    (
        "dmitri",
        "approach_steps == 0 and jumping_serve and eyes_on_ball",
        "higher toss",
        "A jump serve with no approach is really a rushed toss.",
    ),
    ("anna", "low_toss and jumping_serve and eyes_on_ball and not toss_behind", "higher toss", ""),
    (
        "ben",
        "dropped_elbow and standing_serve and eyes_on_ball and not sloppy_toss",
        "high elbow",
        "",
    ),
    ("eva", "fatigued", "no cue", "Tired players should not be corrected."),
    ("eva", "toss_height_cm > 120", "higher toss", ""),
    ("eva", "eyes_off and high_toss", "watch the ball", ""),
    ("farid", "wrist_snap", "firm wrist", ""),
    ("farid", "toss_forward_cm < -20 and eyes_on_ball", "toss in front", ""),
    ("farid", "elbow_angle_deg < 90", "high elbow", ""),
    ("farid", 'stance == "square" and good_mechanics', "no cue", ""),
]


def true_cue(row: dict) -> str:
    """The club's hidden 'ground truth', used only to generate believable examples."""
    if not row["eyes_on_ball"]:
        return "watch the ball"
    if row["toss_forward_cm"] < 0 and row["serve_type"] != "underhand":
        return "toss in front"
    if row["toss_height_cm"] < 40:
        return "higher toss"
    if row["elbow_angle_deg"] < 110:
        return "high elbow"
    if row["serve_type"] in ("float", "jump_float") and row["wrist_snap"]:
        return "firm wrist"
    return "no cue"
