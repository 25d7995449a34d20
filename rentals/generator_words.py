"""The words generated Sakila data is made of: names, titles, descriptions, places."""

LANGUAGES = ["English", "Italian", "Japanese", "Mandarin", "French", "German"]
CATEGORIES = [
    "Action", "Animation", "Children", "Classics", "Comedy", "Documentary", "Drama", "Family",
    "Foreign", "Games", "Horror", "Music", "New", "Sci-Fi", "Sports", "Travel",
]  # fmt: skip
FIRST_NAMES = [
    "MARY", "PATRICIA", "LINDA", "BARBARA", "ELIZABETH", "JENNIFER", "MARIA", "SUSAN", "MARGARET",
    "DOROTHY", "LISA", "NANCY", "KAREN", "BETTY", "HELEN", "SANDRA", "DONNA", "CAROL", "RUTH",
    "SHARON", "MICHELLE", "LAURA", "SARAH", "KIMBERLY", "DEBORAH", "JESSICA", "SHIRLEY", "CYNTHIA",
    "ANGELA", "MELISSA", "JAMES", "JOHN", "ROBERT", "MICHAEL", "WILLIAM", "DAVID", "RICHARD",
    "CHARLES", "JOSEPH", "THOMAS", "CHRISTOPHER", "DANIEL", "PAUL", "MARK", "DONALD", "GEORGE",
    "KENNETH", "STEVEN", "EDWARD", "BRIAN", "RONALD", "ANTHONY", "KEVIN", "JASON", "MATTHEW",
    "GARY", "TIMOTHY", "JOSE", "LARRY", "JEFFREY", "FRANK", "SCOTT", "ERIC", "STEPHEN", "ANDREW",
]  # fmt: skip
LAST_NAMES = [
    "SMITH", "JOHNSON", "WILLIAMS", "JONES", "BROWN", "DAVIS", "MILLER", "WILSON", "MOORE",
    "TAYLOR", "ANDERSON", "THOMAS", "JACKSON", "WHITE", "HARRIS", "MARTIN", "THOMPSON", "GARCIA",
    "MARTINEZ", "ROBINSON", "CLARK", "RODRIGUEZ", "LEWIS", "LEE", "WALKER", "HALL", "ALLEN",
    "YOUNG", "HERNANDEZ", "KING", "WRIGHT", "LOPEZ", "HILL", "SCOTT", "GREEN", "ADAMS", "BAKER",
    "GONZALEZ", "NELSON", "CARTER", "MITCHELL", "PEREZ", "ROBERTS", "TURNER", "PHILLIPS",
    "CAMPBELL", "PARKER", "EVANS", "EDWARDS", "COLLINS", "STEWART", "SANCHEZ", "MORRIS", "ROGERS",
]  # fmt: skip
TITLE_WORDS = [
    "ACADEMY", "ACE", "ADAPTATION", "AFFAIR", "AFRICAN", "AGENT", "AIRPLANE", "AIRPORT", "ALABAMA",
    "ALADDIN", "ALAMO", "ALASKA", "ALI", "ALIEN", "ALLEY", "ALONE", "AMADEUS", "AMELIE", "ANACONDA",
    "ANGELS", "ANNIE", "ANONYMOUS", "ANTHEM", "ANTITRUST", "APACHE", "APOCALYPSE", "APOLLO",
    "ARABIA", "ARGONAUTS", "ARMAGEDDON", "ARMY", "ARSENIC", "ARTIST", "ATLANTIS", "ATTACKS",
    "BABY", "BACKLASH", "BADMAN", "BAKED", "BALLOON", "BANG", "BANGER", "BASIC", "BEACH", "BEAR",
    "BEAST", "BEAUTY", "BED", "BEHAVIOR", "BENEATH", "BERETS", "BETRAYED", "BIKINI", "BILKO",
    "BIRCH", "BIRD", "BLACKOUT", "BLADE", "BLANKET", "BLINDNESS", "BLOOD", "BLUES", "BOILED",
    "BONNIE", "BOOGIE", "BORN", "BOULEVARD", "BOUND", "BOWFINGER", "BRANNIGAN", "BRAVEHEART",
    "BREAKFAST", "BRIDE", "BRIGHT", "BRINGING", "BROOKLYN", "BROTHERHOOD", "BUBBLE", "BUCKET",
    "BUGSY", "BULL", "BULWORTH", "BUNCH", "BUTCH", "BUTTERFLY", "CABIN", "CADDYSHACK", "CALENDAR",
    "CALIFORNIA", "CAMELOT", "CAMPUS", "CANDIDATE", "CANDLES", "CANYON", "CAPER", "CARIBBEAN",
    "CAROL", "CARRIE", "CASABLANCA", "CASPER", "CASSIDY", "CASUALTIES", "CAT", "CATCH", "CAUSE",
    "CELEBRITY", "CENTER", "CHAINSAW", "CHAMBER", "CHAMPION", "CHANCE", "CHAPLIN", "CHARADE",
    "CHARIOTS", "CHASING", "CHEAPER", "CHICAGO", "CHICKEN", "CHILL", "CHINATOWN", "CHOCOLAT",
    "CHRISTMAS", "CIDER", "CINCINATTI", "CIRCUS", "CITIZEN", "CLASH", "CLEOPATRA", "CLERKS",
    "CLOCKWORK", "CLONES", "CLOSER", "CLUB", "CLUE", "CLUELESS", "CLYDE", "COAST", "COLDBLOODED",
    "COLOR", "COMA", "COMANCHEROS", "COMFORTS", "COMMAND", "COMMANDMENTS", "CONEHEADS",
]  # fmt: skip
ADJECTIVES = [
    "Epic", "Astounding", "Fanciful", "Awe-Inspiring", "Touching", "Beautiful", "Emotional",
    "Intrepid", "Thoughtful", "Insightful", "Unbelieveable", "Boring", "Action-Packed", "Brilliant",
    "Fast-Paced", "Lacklusture", "Taut", "Amazing", "Stunning", "Fateful",
]  # fmt: skip
GENRES = [
    "Drama", "Epistle", "Documentary", "Story", "Tale", "Reflection", "Character Study",
    "Panorama", "Saga", "Display", "Yarn", "Drama", "Mystery", "Shakespearean Drama",
]  # fmt: skip
CHARACTERS = [
    "Feminist", "Mad Scientist", "Teacher", "Database Administrator", "Explorer", "Car", "Boy",
    "Girl", "Dentist", "Moose", "Cat", "Dog", "Astronaut", "Robot", "Woman", "Man", "Pioneer",
    "Hunter", "Butler", "Technical Writer", "Sumo Wrestler", "Crocodile", "Monkey", "Frisbee",
    "Husband", "Lumberjack", "Squirrel", "Student", "Composer", "Pastry Chef", "Secret Agent",
]  # fmt: skip
VERBS = [
    "Battle", "Find", "Chase", "Meet", "Outgun", "Overcome", "Pursue", "Redeem", "Defeat",
    "Discover", "Sink", "Conquer", "Fight", "Vanquish", "Confront", "Escape", "Succumb", "Reach",
]  # fmt: skip
PLACES = [
    "The Canadian Rockies", "Ancient China", "A Shark Tank", "A Baloon", "A Manhattan Penthouse",
    "Nigeria", "Soviet Georgia", "A Jet Boat", "The Gulf of Mexico", "A Monastery", "Ancient India",
    "The Outback", "A U-Boat", "The First Manned Space Station", "Berlin",
    "An Abandoned Mine Shaft", "A MySQL Convention", "The Sahara Desert",
    "An Abandoned Fun House", "A Lifeboat",
]  # fmt: skip
SYLLABLES = [
    "ba", "ka", "ra", "lo", "mi", "ne", "sa", "to", "vi", "da", "go", "la", "mo", "na", "pe",
    "ri", "su", "ta", "ve", "za", "an", "el", "or", "us", "ia", "bur", "ton", "ville", "dor",
]  # fmt: skip
STREETS = ["Street", "Avenue", "Boulevard", "Drive", "Lane", "Parkway", "Place", "Way", "Manor"]
